# Use ccache as the compiler launcher when it is installed: CI rebuilds on the same machine, in a
# fresh clone each time. CCACHE_BASEDIR + CCACHE_NOHASHDIR make the cache keys relative to the
# source tree, so a clone at another path still hits what an earlier build compiled.
find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  foreach(lang C CXX CUDA)
    if(NOT DEFINED CMAKE_${lang}_COMPILER_LAUNCHER)
      set(CMAKE_${lang}_COMPILER_LAUNCHER
          ${CMAKE_COMMAND} -E env CCACHE_BASEDIR=${CMAKE_SOURCE_DIR} CCACHE_NOHASHDIR=true ${CCACHE_PROGRAM})
    endif()
  endforeach()
endif()

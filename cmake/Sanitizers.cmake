# AddressSanitizer + UndefinedBehaviorSanitizer for the whole build (debug-asan and ci presets).
# Host languages only: nvcc does not take -fsanitize.
if(GEMMADESK_SANITIZE)
  add_compile_options(
    "$<$<COMPILE_LANGUAGE:C,CXX>:-fsanitize=address,undefined;-fno-omit-frame-pointer;-fno-sanitize-recover=undefined>")
  add_link_options(-fsanitize=address,undefined)
endif()
if(GEMMADESK_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "GEMMADESK_FUZZ needs clang (libFuzzer); configure with -DCMAKE_CXX_COMPILER=clang++-14")
  endif()
  # Coverage instrumentation for all code, so the fuzzers see inside the libraries they drive;
  # the fuzz executables add -fsanitize=fuzzer (libFuzzer's main) themselves.
  add_compile_options("$<$<COMPILE_LANGUAGE:C,CXX>:-fsanitize=fuzzer-no-link>")
endif()

# Project-wide warnings, applied per target with gemmadesk_warnings(<target>).
function(gemmadesk_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow=local -Wno-missing-field-initializers>)
endfunction()

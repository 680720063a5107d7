# Read by cpack (CPACK_PROJECT_CONFIG_FILE): refuse to package a sanitizer or Debug build, which is
# what the test build directories hold. packaging/build-deb.sh makes the Release build to package.
if(CPACK_GEMMADESK_SANITIZE OR NOT CPACK_GEMMADESK_BUILD_TYPE MATCHES "^(Release|RelWithDebInfo|MinSizeRel)$")
  message(FATAL_ERROR "gemmadesk: this build directory is a ${CPACK_GEMMADESK_BUILD_TYPE} build"
                      " (sanitizers: ${CPACK_GEMMADESK_SANITIZE}); make the package with packaging/build-deb.sh")
endif()

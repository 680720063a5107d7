# Install rules and the Debian package (CPack DEB). packaging/build-deb.sh makes the package from its
# own Release build (build/package); tests/packaging/test_deb_install.sh installs and starts it.
#
#   /usr/bin/gemmadesk, /usr/bin/gemmadesk-cli
#   /usr/share/applications/gemmadesk.desktop        (main.cpp: setDesktopFileName("gemmadesk"))
#   /usr/share/icons/hicolor/256x256/apps/gemmadesk.png
include(GNUInstallDirs)

# What the package holds. build-deb.sh builds only these (target gemmadesk-package-targets) and
# CMAKE_SKIP_INSTALL_ALL_DEPENDENCY keeps cpack from building the tests and fuzzers as well.
set(GD_PACKAGED_TARGETS gemmadesk gemmadesk-cli)
install(TARGETS ${GD_PACKAGED_TARGETS} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${CMAKE_CURRENT_LIST_DIR}/gemmadesk.desktop DESTINATION ${CMAKE_INSTALL_DATADIR}/applications)
install(FILES ${CMAKE_SOURCE_DIR}/resources/icons/gemmadesk.png
        DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/256x256/apps)
add_custom_target(gemmadesk-package-targets DEPENDS ${GD_PACKAGED_TARGETS})

set(CPACK_PACKAGE_NAME gemmadesk)
set(CPACK_PACKAGE_VENDOR "Gemma Desk")
set(CPACK_PACKAGE_CONTACT "Gemma Desk team <gemmadesk@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "offline desktop assistant for Google's Gemma 4 models")
set(CPACK_PACKAGE_DESCRIPTION
  "Gemma Desk runs Gemma 4 models (E2B, E4B, 26B-A4B, 31B) on your own
computer, on the CPU or an NVIDIA GPU. It reads the model files people
already have: Hugging Face safetensors folders and GGUF files from
llama.cpp, Ollama or LM Studio. Chats stay on this machine; the network
is used only when you ask it to download a model.

This package holds the Qt desktop app (gemmadesk) and the command-line
tool (gemmadesk-cli).")
set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR DEB)

set(CPACK_DEBIAN_PACKAGE_NAME gemmadesk)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # gemmadesk_<version>-1_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# The shared libraries the binaries link (libqt6*, libsentencepiece0, libopencv-*, libav*, ...).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# What dpkg-shlibdeps cannot see, because Qt loads it as a plugin at run time: the QSQLITE driver
# behind the chat history (plugins/sqldrivers). The other plugins the app loads come with packages
# shlibdeps already lists: on Debian 12 the xcb/offscreen platforms are in libqt6gui6 (qt6-qpa-plugins
# only holds vnc and tuiotouch), TLS for downloads (plugins/tls, which dlopens libssl3) is in
# libqt6network6. Images come from the qrc as PNG, which QtGui decodes itself, and the app is Widgets
# only (no Qt Quick, so no qml6-module-*). tests/packaging/test_deb_install.sh checks all of this.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libqt6sql6-sqlite")
# ca-certificates: HTTPS to huggingface.co when downloading; qt6-wayland: native Wayland windows
# (without it Qt uses XWayland through xcb).
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "ca-certificates, qt6-wayland")
if(GEMMADESK_HAVE_CUDA)
  # The CUDA runtime is linked statically; cuBLAS/cuDNN, where the backend links them, come from
  # NVIDIA's CUDA installation, not from a Debian package, so Depends cannot name them.
  string(APPEND CPACK_PACKAGE_DESCRIPTION "

This build includes the CUDA backend (CUDA ${CMAKE_CUDA_COMPILER_VERSION}). The GPU needs
NVIDIA's driver; NVIDIA's CUDA libraries it links, if any (cuBLAS, cuDNN),
are not Debian packages and must be in the library path.")
endif()
set(CPACK_GEMMADESK_SANITIZE ${GEMMADESK_SANITIZE})
set(CPACK_GEMMADESK_BUILD_TYPE ${CMAKE_BUILD_TYPE})
set(CPACK_PROJECT_CONFIG_FILE ${CMAKE_CURRENT_LIST_DIR}/CPackProjectConfig.cmake)
# For packaging/build-deb.sh: what this build directory packages.
file(WRITE ${CMAKE_BINARY_DIR}/gemmadesk-package.txt
  "version=${PROJECT_VERSION}\ncuda=${GEMMADESK_HAVE_CUDA}\nbuild_type=${CMAKE_BUILD_TYPE}\nsanitize=${GEMMADESK_SANITIZE}\n")

include(CPack)

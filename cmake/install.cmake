# Install rules: `make install PREFIX=/some/where` (or `cmake --install build --prefix DIR`) puts
#   include/otgen/*.h                       the public headers
#   lib/libotgen.so.0.1.0, .so.0, .so, .a  the shared library (SONAME libotgen.so.0) and the archive
#   lib/pkgconfig/otgen.pc                  for `cc app.c $(pkg-config --cflags --libs otgen)`
#   lib/cmake/otgen/otgenConfig.cmake       for find_package(otgen): targets otgen::otgen (shared)
#                                           and otgen::otgen_static
#   bin/otgen                               the command-line tool
# The .pc file locates the prefix from its own path (${pcfiledir}), so the tree is relocatable.
include(CMakePackageConfigHelpers)

# otgen/mpi.h goes with libotgen_mpi, which is built for the CLI only (not installed).
install(DIRECTORY include/otgen DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h"
        PATTERN "mpi.h" EXCLUDE)
set(OTGEN_INSTALL_TARGETS otgen_lib)
if(OTGEN_SHARED)
  list(APPEND OTGEN_INSTALL_TARGETS otgen_shared)
endif()
install(TARGETS ${OTGEN_INSTALL_TARGETS} EXPORT otgenTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} NAMELINK_COMPONENT Development
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS otgen RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

set(OTGEN_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/otgen)
install(EXPORT otgenTargets NAMESPACE otgen:: DESTINATION ${OTGEN_CMAKE_DIR})
configure_package_config_file(cmake/otgenConfig.cmake.in ${CMAKE_BINARY_DIR}/otgenConfig.cmake
                              INSTALL_DESTINATION ${OTGEN_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/otgenConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/otgenConfig.cmake ${CMAKE_BINARY_DIR}/otgenConfigVersion.cmake
        DESTINATION ${OTGEN_CMAKE_DIR})

configure_file(cmake/otgen.pc.in ${CMAKE_BINARY_DIR}/otgen.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/otgen.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The Python package: lib/python3.X/dist-packages/otgen, X the minor version of OTGEN_PYTHON (on
# Debian's /usr/bin/python3 path for the /usr/local and /usr prefixes; lib/python3/dist-packages
# is on it only for /usr), finding the installed libotgen.so.0 through _libpath.py (relative to
# the package).
if(OTGEN_PYTHON_BINDING)
  execute_process(COMMAND ${OTGEN_PYTHON} -c "import sys; print('python%d.%d' % sys.version_info[:2])"
                  OUTPUT_VARIABLE OTGEN_PY_VERDIR OUTPUT_STRIP_TRAILING_WHITESPACE)
  set(OTGEN_PY_DEST lib/${OTGEN_PY_VERDIR}/dist-packages/otgen)
  file(RELATIVE_PATH OTGEN_PY_LIBREL /p/${OTGEN_PY_DEST} /p/${CMAKE_INSTALL_LIBDIR})
  file(WRITE ${CMAKE_BINARY_DIR}/python/_libpath.py
       "# written by cmake/install.cmake: the installed libotgen, relative to this package\n"
       "LIBDIR = \"${OTGEN_PY_LIBREL}\"\n")
  file(GLOB OTGEN_PY_SOURCES CONFIGURE_DEPENDS python/otgen/*.py)
  install(FILES ${OTGEN_PY_SOURCES} ${OTGEN_PY_FFI} ${CMAKE_BINARY_DIR}/python/_libpath.py
          DESTINATION ${OTGEN_PY_DEST})
endif()

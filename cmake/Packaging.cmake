# Install rules for everything around the binary (units, man pages, the
# Wireshark plugin, docs, BPF objects) and a Debian package by CPack:
#   make deb    (cmake --build BUILD --target package)
include(GNUInstallDirs)

# Man pages: generated at build time from the CLI's own --help texts
# (docs/man/gen-man; hand-written prose in docs/man/*.extra), so the man
# pages and --help come from one source.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND AND TARGET saf)
  add_custom_target(saf_man ALL
    COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/docs/man/gen-man
            $<TARGET_FILE:saf> ${PROJECT_BINARY_DIR}/man ${PROJECT_VERSION} > /dev/null
    DEPENDS saf ${PROJECT_SOURCE_DIR}/docs/man/gen-man
    COMMENT "Man pages from saf --help")
  foreach(sec 1 8)
    install(DIRECTORY ${PROJECT_BINARY_DIR}/man/ DESTINATION ${CMAKE_INSTALL_MANDIR}/man${sec}
      FILES_MATCHING PATTERN "*.${sec}")
  endforeach()
endif()

# systemd units and their example environment files. Units go to
# /usr/lib/systemd/system whatever the prefix (Debian's systemd looks
# there; /usr is the package prefix anyway).
install(DIRECTORY ${PROJECT_SOURCE_DIR}/dist/systemd/
  DESTINATION lib/systemd/system FILES_MATCHING PATTERN "*.service")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/dist/default/
  DESTINATION ${CMAKE_INSTALL_DATADIR}/saf/default)

# The Wireshark Lua plugin: Wireshark loads every .lua in its global
# plugin directory; a copy in /usr/share/saf for -X lua_script:.
set(SAF_WIRESHARK_PLUGIN_DIR lib/${CMAKE_LIBRARY_ARCHITECTURE}/wireshark/plugins
  CACHE STRING "Where the saf.lua Wireshark plugin is installed")
install(FILES ${PROJECT_SOURCE_DIR}/tools/wireshark/saf.lua DESTINATION ${SAF_WIRESHARK_PLUGIN_DIR})
install(FILES ${PROJECT_SOURCE_DIR}/tools/wireshark/saf.lua DESTINATION ${CMAKE_INSTALL_DATADIR}/saf/wireshark)

# BPF objects: the binary embeds them (libbpf skeletons); the .o files are
# shipped for bpftool/inspection. Data-driven: whatever the bpf part built.
install(DIRECTORY ${PROJECT_BINARY_DIR}/src/bpf/ DESTINATION ${CMAKE_INSTALL_LIBDIR}/saf/bpf
  OPTIONAL FILES_MATCHING PATTERN "*.bpf.o" PATTERN "CMakeFiles" EXCLUDE)

# Docs.
file(GLOB SAF_DOCS ${PROJECT_SOURCE_DIR}/docs/*.md ${PROJECT_SOURCE_DIR}/README.md)
install(FILES ${SAF_DOCS} DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The Debian package.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME saf)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "saf maintainers <saf@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_DESCRIPTION "Service affinity for anycast services: a TCP option
written by eBPF sock_ops programs and TLS 1.3 extensions (OpenSSL 3), the
scheduler for the ingress router, the node agent, a namespace lab, systemd
units, man pages and a Wireshark dissector.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "tshark | wireshark, bpftool, iproute2")
set(CPACK_STRIP_FILES ON)
include(CPack)

# Installation beyond the binaries (configuration, systemd units, docs) and
# the Debian packages, built with CPack:
#   cmake -S . -B build -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_BUILD_TYPE=Release
#   cmake --build build --target danegated danegate danegate-agent danegate_exim
#   (cd build && cpack -G DEB)      -> danegate_VERSION_amd64.deb,
#                                      danegate-exim_VERSION_amd64.deb
# Component "server": danegated, danegate, danegate-agent, their systemd
# units and example flag files. Component "exim": danegate_exim.so and the
# Exim configuration snippets.

set(DANEGATE_PACKAGING ${PROJECT_SOURCE_DIR}/packaging)
# `install` (and cpack) need only what is installed built, not the tests.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

# /etc for a /usr prefix (GNUInstallDirs' full sysconfdir), as conffiles.
install(FILES ${DANEGATE_PACKAGING}/etc/danegated.flags ${DANEGATE_PACKAGING}/etc/agent.flags
        DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/danegate COMPONENT server)
install(FILES ${DANEGATE_PACKAGING}/systemd/danegated.service
              ${DANEGATE_PACKAGING}/systemd/danegate-agent.service
        DESTINATION lib/systemd/system COMPONENT server)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/CHANGELOG.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT server)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs
        COMPONENT server)
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR}
        RENAME copyright COMPONENT server)
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/danegate-exim RENAME copyright COMPONENT exim)

set(CPACK_PACKAGE_NAME danegate)
set(CPACK_PACKAGE_VENDOR "danegate")
set(CPACK_PACKAGE_CONTACT "danegate maintainers <danegate@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "DANE (RFC 7672) for a fleet of MTAs")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_GENERATOR DEB)
# The packages install where this build was configured to: configure with
# -DCMAKE_INSTALL_PREFIX=/usr for them (then the flag files go to /etc).
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL server exim)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION mail)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_SERVER_PACKAGE_NAME danegate)
set(CPACK_DEBIAN_SERVER_PACKAGE_DEPENDS "adduser, dns-root-data")
set(CPACK_DEBIAN_SERVER_DESCRIPTION
    "DANE (RFC 7672) validation for a fleet of MTAs
danegated resolves TLSA records with its own DNSSEC validation and decides,
per RFC 7672, how a message may be delivered; danegate-agent answers
Postfix's and Exim's questions on each MTA host; danegate is the
command-line client.")
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_EXTRA
    "${DANEGATE_PACKAGING}/debian/postinst;${DANEGATE_PACKAGING}/debian/prerm;${DANEGATE_PACKAGING}/debian/postrm;${DANEGATE_PACKAGING}/debian/conffiles")
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_EXIM_PACKAGE_NAME danegate-exim)
# ${dlfunc} needs an Exim built with EXPAND_DLFUNC: Debian's heavy daemon.
set(CPACK_DEBIAN_EXIM_PACKAGE_DEPENDS "exim4-daemon-heavy")
set(CPACK_DEBIAN_EXIM_PACKAGE_RECOMMENDS "danegate")
set(CPACK_DEBIAN_EXIM_DESCRIPTION
    "DANE (RFC 7672) for Exim, through danegate-agent
danegate_exim.so, loaded with \${dlfunc}, and the router and transport
snippets that make Exim deliver, defer or reject on danegated's verdicts.")
include(CPack)

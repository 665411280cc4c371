# Debian packages of an installed libovz: `cpack -G DEB` in a build tree configured with
# -DCMAKE_INSTALL_PREFIX=/usr (packaging/build-debs does both). One package per install
# component:
#
#   libovz0      runtime      libovz.so.0, libovzc.so.0, the monitor and spawn's helper
#   libovz-dev   development  headers, static libraries, CMake package, pkg-config file
#   python3-ovz  python       the ovz module for Debian's python3
#   ovzctl       cli          ovzctl and ovz-oci, their manual pages, the ONBOOT unit,
#                             the state root /var/lib/ovz
#   ovz-panel    panel        the web control panel (examples/panel) and its unit
#
# Included only where the prefix is /usr: the library finds its programs where it was
# configured to install them (src/ve/monitor.cpp), so a tree configured for another prefix
# would package programs that cannot find each other.

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME libovz)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "libovz developers <libovz@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime development python cli panel)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://openvz.org/")
# Each ELF's libraries as dpkg-shlibdeps finds them, and libovz0's own shlibs file for
# packages that link it.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Without debug information, as Debian ships binaries: RelWithDebInfo's would make the packages
# ten times their size. CPack strips programs and shared libraries; the static ones, which it
# leaves alone, lose theirs in strip_static.cmake.
set(CPACK_STRIP_FILES ON)
set(CPACK_PRE_BUILD_SCRIPTS ${CMAKE_CURRENT_LIST_DIR}/strip_static.cmake)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY "=")
# A component's DEPENDS (below) becomes a Depends on that package at this very version.
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)

# CPackDeb puts this summary before each package's description unless it is CPack's default:
# each package has a summary line of its own.
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${CMAKE_PROJECT_NAME} built using CMake")
# Each package's description: its summary line, then this, then what it holds. CPack
# indents the lines and turns an empty one into Debian's " .".
set(ovz_deb_long_description
  "libovz runs many isolated Virtual Environments (VEs) on one Linux host, as\nOpenVZ does: each with its own root, users, addresses, processes and init,\nunder per-VE beancounters, CPU shares and disk quota, on the host's kernel.")

include(CPackComponent)
cpack_add_component(runtime DISPLAY_NAME "libovz")
cpack_add_component(development DISPLAY_NAME "libovz development files" DEPENDS runtime)
cpack_add_component(python DISPLAY_NAME "libovz for Python" DEPENDS runtime)
cpack_add_component(cli DISPLAY_NAME "ovzctl" DEPENDS runtime)
cpack_add_component(panel DISPLAY_NAME "ovz-panel" DEPENDS python)

set(ovz_deb_scripts ${PROJECT_SOURCE_DIR}/packaging/debian)
# Debian's changelog in every package's documentation, as policy asks of each.
set(ovz_deb_changelog ${CMAKE_CURRENT_BINARY_DIR}/packaging/changelog.Debian.gz)
add_custom_command(OUTPUT ${ovz_deb_changelog}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_CURRENT_BINARY_DIR}/packaging
  COMMAND gzip -9n -c ${ovz_deb_scripts}/changelog > ${ovz_deb_changelog}
  DEPENDS ${ovz_deb_scripts}/changelog VERBATIM)
add_custom_target(ovz_deb_changelog ALL DEPENDS ${ovz_deb_changelog})
foreach(package runtime:libovz0 development:libovz-dev python:python3-ovz cli:ovzctl
                panel:ovz-panel)
  string(REPLACE ":" ";" package ${package})
  list(GET package 0 component)
  list(GET package 1 name)
  install(FILES ${ovz_deb_changelog} DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/${name}
          COMPONENT ${component})
endforeach()
install(FILES ${ovz_deb_scripts}/libovz0/lintian-overrides
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/lintian/overrides RENAME libovz0
        COMPONENT runtime)

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME libovz0)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION libs)
# The built-in template is the host's static busybox; checkpoints are CRIU's.
set(CPACK_DEBIAN_RUNTIME_PACKAGE_RECOMMENDS "busybox-static, criu")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SUGGESTS "debootstrap, e2fsprogs, lxcfs")
# ldconfig runs once for all packages that ask (a trigger), not in each one's scripts.
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_EXTRA ${ovz_deb_scripts}/libovz0/triggers)
set(CPACK_DEBIAN_RUNTIME_DESCRIPTION
  "Virtual Environments library: shared libraries and helper programs\n${ovz_deb_long_description}\n\nThis package has libovz (C++) and libovzc (its C ABI), the per-VE\nmonitor and the spawn helper they run.")

set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_NAME libovz-dev)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_SECTION libdevel)
# What libovz.a's users link besides it, and the Boost headers its API uses.
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_DEPENDS
  "libboost-dev (>= 1.74), libfmt-dev, libcap-dev, libseccomp-dev, libnl-route-3-dev, libcrypt-dev, libprotobuf-c-dev, libsystemd-dev")
set(CPACK_DEBIAN_DEVELOPMENT_DESCRIPTION
  "Virtual Environments library: development files\n${ovz_deb_long_description}\n\nThis package has the C++ and C headers, the static libraries, the CMake\npackage (find_package(ovz)) and the pkg-config file.")

set(CPACK_DEBIAN_PYTHON_PACKAGE_NAME python3-ovz)
set(CPACK_DEBIAN_PYTHON_PACKAGE_SECTION python)
# The extension is built for one Python ABI: the python3 it was built with.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND)
  math(EXPR ovz_python_next "${Python3_VERSION_MINOR} + 1")
  set(CPACK_DEBIAN_PYTHON_PACKAGE_DEPENDS
    "python3 (>= ${Python3_VERSION_MAJOR}.${Python3_VERSION_MINOR}~), python3 (<< ${Python3_VERSION_MAJOR}.${ovz_python_next})")
endif()
set(CPACK_DEBIAN_PYTHON_DESCRIPTION
  "Virtual Environments library: Python 3 module\n${ovz_deb_long_description}\n\nThis package has the ovz module (import ovz).")

set(CPACK_DEBIAN_CLI_PACKAGE_NAME ovzctl)
set(CPACK_DEBIAN_CLI_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_CLI_PACKAGE_DEPENDS "init-system-helpers (>= 1.54~)")
set(CPACK_DEBIAN_CLI_PACKAGE_RECOMMENDS "busybox-static, xz-utils")
set(CPACK_DEBIAN_CLI_PACKAGE_SUGGESTS "criu, debootstrap, quota")
set(CPACK_DEBIAN_CLI_DESCRIPTION
  "Virtual Environments from the command line, vzctl's way\n${ovz_deb_long_description}\n\nThis package has ovzctl (create, start, exec, set, stop, destroy, migrate\na VE, and more), ovz-oci (an OCI runtime for Podman and containerd), and\nthe ovz service that starts the VEs marked ONBOOT at the host's boot.")
set(CPACK_DEBIAN_CLI_PACKAGE_CONTROL_EXTRA
  ${ovz_deb_scripts}/ovzctl/postinst ${ovz_deb_scripts}/ovzctl/postrm)
set(CPACK_DEBIAN_CLI_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_DEBIAN_PANEL_PACKAGE_NAME ovz-panel)
set(CPACK_DEBIAN_PANEL_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PANEL_PACKAGE_ARCHITECTURE all)
set(CPACK_DEBIAN_PANEL_PACKAGE_DEPENDS "python3:any, python3-aiohttp (>= 3.8)")
set(CPACK_DEBIAN_PANEL_DESCRIPTION
  "Virtual Environments in a web browser\n${ovz_deb_long_description}\n\nThis package has ovz-panel, a small web control panel over the ovz Python\nmodule: the VEs, their beancounters, CPU and memory live, their refusals as\nthey happen; create, start, stop, limits, addresses. It serves on localhost\nwith a password made at its first start (ovz-panel.service, not enabled).")
set(CPACK_DEBIAN_PANEL_PACKAGE_CONTROL_EXTRA
  ${ovz_deb_scripts}/ovz-panel/postinst ${ovz_deb_scripts}/ovz-panel/postrm)
set(CPACK_DEBIAN_PANEL_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)

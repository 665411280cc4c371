# ovz_link_static(TARGET FALLBACK): links TARGET with libovz.a and the static archives of the
# libraries libovz uses, all but libc and libnl. Two programs want that: the per-VE monitor, one of
# which runs beside every VE for its whole life (73 mapped regions become 36, about 100 KiB
# less private memory and fewer page tables per VE), and ovzctl, which a script or panel runs
# once per command (its start costs 0.8 ms of CPU instead of 2.1 ms: no C++ library to load and
# relocate). Where an archive is missing, or under a sanitizer (whose runtime wants
# the libraries shared), TARGET links FALLBACK instead.

set(OVZ_STATIC_ARCHIVES "")
set(OVZ_LINKS_STATIC ON)
if(OVZ_SANITIZER_FLAGS OR NOT fmt_VERSION VERSION_LESS 10)
  set(OVZ_LINKS_STATIC OFF)
endif()
# libnl stays shared: it registers its link types and traffic-control kinds from constructors
# in objects nothing refers to, which a static link leaves out (rtnl_tc_set_kind crashed), and
# its archive cannot be linked whole (two of its members define the same symbols).
foreach(lib cap seccomp crypt protobuf-c)
  string(MAKE_C_IDENTIFIER "OVZ_ARCHIVE_${lib}" var)
  find_library(${var} NAMES lib${lib}.a)
  if(NOT ${var})
    set(OVZ_LINKS_STATIC OFF)
  endif()
  list(APPEND OVZ_STATIC_ARCHIVES ${${var}})
endforeach()
if(OVZ_LINKS_STATIC)
  add_library(ovz_fmt_impl OBJECT ${CMAKE_CURRENT_LIST_DIR}/fmt_impl.cpp)
  target_include_directories(ovz_fmt_impl PRIVATE
                             $<TARGET_PROPERTY:fmt::fmt,INTERFACE_INCLUDE_DIRECTORIES>)
else()
  message(STATUS "ovz-monitor and ovzctl: linked with shared libraries")
endif()

function(ovz_link_static target fallback)
  if(NOT OVZ_LINKS_STATIC)
    target_link_libraries(${target} PRIVATE ${fallback} fmt::fmt)
    return()
  endif()
  target_sources(${target} PRIVATE $<TARGET_OBJECTS:ovz_fmt_impl>)
  target_include_directories(${target} PRIVATE
                             $<TARGET_PROPERTY:ovz_static,INTERFACE_INCLUDE_DIRECTORIES>
                             $<TARGET_PROPERTY:fmt::fmt,INTERFACE_INCLUDE_DIRECTORIES>)
  target_link_libraries(${target} PRIVATE $<TARGET_FILE:ovz_static> ${OVZ_STATIC_ARCHIVES}
                        PkgConfig::LIBNL Boost::headers Threads::Threads ${CMAKE_DL_LIBS})
  target_link_options(${target} PRIVATE -static-libstdc++ -static-libgcc)
  # No library of the build tree to find at run time.
  set_target_properties(${target} PROPERTIES SKIP_BUILD_RPATH ON)
  add_dependencies(${target} ovz_static)
endfunction()

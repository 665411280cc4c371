# CPack's pre-build script (cmake/packaging.cmake): the static libraries staged for the packages
# without their debug information. Their symbol tables stay, which linking needs.
file(GLOB_RECURSE archives "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/*.a")
foreach(archive IN LISTS archives)
  execute_process(COMMAND strip --strip-debug "${archive}" RESULT_VARIABLE failed)
  if(failed)
    message(FATAL_ERROR "strip --strip-debug ${archive} failed")
  endif()
endforeach()

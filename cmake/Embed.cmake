# lkk_embed_files(<target> <namespace> <base-dir> <glob>...): compiles every file under
# base-dir matching the globs into <target>, reachable as <namespace>::files().
function(lkk_embed_files target ns base)
  set(files "")
  foreach(g ${ARGN})
    file(GLOB_RECURSE found CONFIGURE_DEPENDS "${base}/${g}")
    list(APPEND files ${found})
  endforeach()
  list(SORT files)
  string(REPLACE "::" "_" stem "${ns}")
  set(out "${CMAKE_CURRENT_BINARY_DIR}/embedded_${stem}.cpp")
  add_custom_command(OUTPUT "${out}"
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DNAMESPACE=${ns} -DBASE=${base}
            "-DFILES=${files}" -P ${PROJECT_SOURCE_DIR}/cmake/embed_files.cmake
    DEPENDS ${files} ${PROJECT_SOURCE_DIR}/cmake/embed_files.cmake
    COMMENT "Embedding ${ns} files" VERBATIM)
  target_sources(${target} PRIVATE "${out}")
endfunction()

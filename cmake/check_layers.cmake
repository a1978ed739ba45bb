# Refuses an #include that breaks Volley's layering (run by the build before any layer compiles:
# cmake -DSOURCE_DIR=... -DSTAMP=... -P check_layers.cmake). The include roots in the build tree
# already make such an include fail to compile; this check says why, and also covers what an
# include root cannot: third-party headers that do not belong in core/, and "../" paths.
#
# core/ is pure logic, sans-IO: no database, actor runtime, socket or logging library.
set(core_forbidden "^(rocksdb|caf|boost|spdlog|prometheus|CLI|asio)/|^openssl/ssl\\.h$|^sys/socket\\.h$")

# What each layer may include from the project (first folder of the path).
set(may_see_core core)
set(may_see_storage core storage)
set(may_see_net core net)
set(may_see_actors core storage net actors)
set(may_see_api core storage net actors api)
set(project_folders core storage net actors api daemon tests loadtest)

set(problems "")
foreach(layer core storage net actors api)
  file(GLOB_RECURSE files ${SOURCE_DIR}/${layer}/*.cpp ${SOURCE_DIR}/${layer}/*.hpp)
  foreach(f ${files})
    file(STRINGS ${f} lines REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]")
    file(RELATIVE_PATH rel ${SOURCE_DIR} ${f})
    foreach(line ${lines})
      if(NOT line MATCHES "#[ \t]*include[ \t]*([<\"])([^>\"]+)[>\"]")
        continue()
      endif()
      set(quoted ${CMAKE_MATCH_1})
      set(path ${CMAKE_MATCH_2})
      if(path MATCHES "^\\.\\./|/\\.\\./")
        string(APPEND problems "${rel}: #include \"${path}\": no ../ paths (include from the layer's root)\n")
        continue()
      endif()
      string(REGEX MATCH "^[^/]+" top "${path}")
      list(FIND project_folders "${top}" is_project)
      if(quoted STREQUAL "\"" AND NOT is_project EQUAL -1 AND path MATCHES "/")
        list(FIND may_see_${layer} "${top}" allowed)
        if(allowed EQUAL -1)
          string(REPLACE ";" "/, " seen "${may_see_${layer}}")
          string(APPEND problems "${rel}: #include \"${path}\": ${layer}/ may include only ${seen}/\n")
        endif()
      elseif(quoted STREQUAL "<" AND layer STREQUAL "core" AND path MATCHES "${core_forbidden}")
        string(APPEND problems "${rel}: #include <${path}>: core/ is pure logic, without databases, actors, sockets or logging; this belongs in storage/, net/ or actors/\n")
      endif()
    endforeach()
  endforeach()
endforeach()

if(problems)
  message(FATAL_ERROR "Layering broken (the layers: CMakeLists.txt and docs/architecture.md):\n${problems}")
endif()
file(TOUCH ${STAMP})

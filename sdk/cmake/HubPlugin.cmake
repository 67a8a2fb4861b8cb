# hub_add_plugin(NAME <department id> SOURCES <files…> [LIBRARIES <targets…>])
#
# Builds a department plugin the way hubd expects it: a shared library named
# libhub_plugin_<id>.so, hidden visibility (only the HUB_DECLARE_PLUGIN aliases are exported),
# linked against hub::sdk. The target is called hub_plugin_<id>.
function(hub_add_plugin)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT ARG_NAME OR NOT ARG_SOURCES)
    message(FATAL_ERROR "hub_add_plugin: NAME and SOURCES are required")
  endif()
  set(target hub_plugin_${ARG_NAME})
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE hub::sdk ${ARG_LIBRARIES})
  set_target_properties(${target} PROPERTIES
    PREFIX "lib"
    OUTPUT_NAME "hub_plugin_${ARG_NAME}"
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(DEFINED HUB_PLUGIN_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${HUB_PLUGIN_OUTPUT_DIRECTORY})
  endif()
endfunction()

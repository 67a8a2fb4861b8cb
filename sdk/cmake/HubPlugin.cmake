# CMake helpers for department plugins, in-tree and in an outside project (find_package(HubSdk)).
#
# hub_add_plugin(NAME <department id> SOURCES <files…> [LIBRARIES <targets…>])
#   Builds a department plugin the way hubd expects it: a shared library named
#   libhub_plugin_<id>.so, hidden visibility (only the HUB_DECLARE_PLUGIN aliases are
#   exported), linked against hub::sdk. The target is called hub_plugin_<id>.
#
# hub_add_plugin_test(NAME <test target> PLUGIN <department id> SOURCES <files…>
#                     CATALOGUE <catalogue file> [LIBRARIES <targets…>])
#   A GoogleTest executable for the plugin made by hub_add_plugin(NAME <id>), linked with the
#   harness (hub::sdk_testing) and registered with CTest. It compiles with HUB_PLUGIN_LIBRARY
#   (path of the built .so), HUB_PLUGIN_ID and HUB_PLUGIN_CATALOGUE (absolute path) defined,
#   so that `PluginUnderTest plugin(this_plugin());` loads the right library and catalogue.
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

function(hub_add_plugin_test)
  cmake_parse_arguments(ARG "" "NAME;PLUGIN;CATALOGUE" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT ARG_NAME OR NOT ARG_PLUGIN OR NOT ARG_SOURCES OR NOT ARG_CATALOGUE)
    message(FATAL_ERROR "hub_add_plugin_test: NAME, PLUGIN, SOURCES and CATALOGUE are required")
  endif()
  if(NOT TARGET hub::sdk_testing)
    message(FATAL_ERROR "hub_add_plugin_test: hub::sdk_testing is missing; it needs GoogleTest "
                        "(apt-get install libgtest-dev) — use find_package(HubSdk REQUIRED COMPONENTS testing)")
  endif()
  if(NOT TARGET hub_plugin_${ARG_PLUGIN})
    message(FATAL_ERROR "hub_add_plugin_test: no plugin '${ARG_PLUGIN}'; call hub_add_plugin(NAME ${ARG_PLUGIN} …) first")
  endif()
  get_filename_component(catalogue "${ARG_CATALOGUE}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  add_executable(${ARG_NAME} ${ARG_SOURCES})
  target_link_libraries(${ARG_NAME} PRIVATE hub::sdk_testing GTest::gtest_main ${ARG_LIBRARIES})
  target_compile_definitions(${ARG_NAME} PRIVATE
    HUB_PLUGIN_LIBRARY="$<TARGET_FILE:hub_plugin_${ARG_PLUGIN}>"
    HUB_PLUGIN_ID="${ARG_PLUGIN}"
    HUB_PLUGIN_CATALOGUE="${catalogue}")
  add_dependencies(${ARG_NAME} hub_plugin_${ARG_PLUGIN})
  include(GoogleTest)
  gtest_discover_tests(${ARG_NAME})
endfunction()

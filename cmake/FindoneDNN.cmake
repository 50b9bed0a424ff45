# FindoneDNN: oneDNN (Debian's libdnnl-dev) as the imported target oneDNN::dnnl.
#
# Why not find_package(dnnl CONFIG): the dnnl-config.cmake that Debian ships calls
# find_package(OpenCL REQUIRED) because the library was built with an OpenCL GPU runtime, and
# that aborts configure on a machine without ocl-icd-opencl-dev (a Recommends, not a Depends, of
# libdnnl-dev). neuncut uses only the CPU engine, so it needs just the header and the shared
# library; this module finds those and proves that a program using them links, so a broken or
# incomplete install reports oneDNN_FOUND = FALSE with a reason instead of stopping the build.
#
# Sets oneDNN_FOUND, oneDNN_INCLUDE_DIR, oneDNN_LIBRARY, oneDNN_REASON (why not found).
include(FindPackageHandleStandardArgs)
include(CheckCXXSourceCompiles)
include(CMakePushCheckState)

find_path(oneDNN_INCLUDE_DIR oneapi/dnnl/dnnl.hpp)
find_library(oneDNN_LIBRARY NAMES dnnl)
set(oneDNN_REASON "")
if(oneDNN_INCLUDE_DIR AND oneDNN_LIBRARY)
  cmake_push_check_state(RESET)
  set(CMAKE_REQUIRED_QUIET ON)
  set(CMAKE_REQUIRED_INCLUDES ${oneDNN_INCLUDE_DIR})
  set(CMAKE_REQUIRED_LIBRARIES ${oneDNN_LIBRARY})
  # Cached by CMake under this name; the library path is part of it so a changed install re-checks.
  string(MAKE_C_IDENTIFIER "neuncut_onednn_links_${oneDNN_LIBRARY}" _neuncut_onednn_check)
  check_cxx_source_compiles([=[
#include <oneapi/dnnl/dnnl.hpp>
int main() {
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng.get_kind() == dnnl::engine::kind::cpu ? 0 : 1;
}]=] ${_neuncut_onednn_check})
  cmake_pop_check_state()
  if(NOT ${_neuncut_onednn_check})
    set(oneDNN_REASON "a program using ${oneDNN_LIBRARY} does not compile or link (see CMakeError.log)")
  endif()
else()
  set(oneDNN_REASON "oneapi/dnnl/dnnl.hpp or libdnnl not found (install libdnnl-dev)")
endif()

if(oneDNN_REASON STREQUAL "")
  set(_neuncut_onednn_ok TRUE)
endif()
find_package_handle_standard_args(oneDNN
  REQUIRED_VARS oneDNN_LIBRARY oneDNN_INCLUDE_DIR _neuncut_onednn_ok
  REASON_FAILURE_MESSAGE "${oneDNN_REASON}")
unset(_neuncut_onednn_ok)

if(oneDNN_FOUND AND NOT TARGET oneDNN::dnnl)
  add_library(oneDNN::dnnl UNKNOWN IMPORTED)
  set_target_properties(oneDNN::dnnl PROPERTIES
    IMPORTED_LOCATION "${oneDNN_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${oneDNN_INCLUDE_DIR}")
endif()
mark_as_advanced(oneDNN_INCLUDE_DIR oneDNN_LIBRARY)

# A long explicit warning list, as c-ares keeps it. Applies to saf's own
# targets; generated BPF skeletons are included as system headers.
set(SAF_WARNINGS
  -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Wshadow
  -Wstrict-prototypes -Wmissing-prototypes -Wold-style-definition
  -Wpointer-arith -Wcast-qual -Wwrite-strings -Wformat=2 -Wundef
  -Wvla -Wnull-dereference -Wdouble-promotion -Wimplicit-fallthrough
  -Wno-gnu-zero-variadic-macro-arguments
)
if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
  list(REMOVE_ITEM SAF_WARNINGS -Wno-gnu-zero-variadic-macro-arguments)
  # Messages are cut to fit their buffers on purpose.
  list(APPEND SAF_WARNINGS -Wlogical-op -Wduplicated-cond -Wduplicated-branches -Wno-format-truncation)
endif()
if(SAF_WERROR)
  list(APPEND SAF_WARNINGS -Werror)
endif()
add_compile_options(${SAF_WARNINGS})
add_compile_definitions(_GNU_SOURCE)

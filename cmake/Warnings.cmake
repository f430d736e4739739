# Warnings are errors for the project's own targets (not for third-party headers, which come
# in as system includes).
add_library(sandboxd_warnings INTERFACE)
target_compile_options(sandboxd_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Werror
  -Wshadow -Wnon-virtual-dtor -Wcast-align -Wunused -Woverloaded-virtual
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough
  # Designated initializers that name only some fields are idiomatic C++20.
  -Wno-missing-field-initializers)

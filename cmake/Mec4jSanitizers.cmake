# MEC4J_SANITIZE=ON builds everything with AddressSanitizer and UndefinedBehaviorSanitizer;
# any report aborts the test (no recovery), so ctest fails on the first finding.
option(MEC4J_SANITIZE "Build with -fsanitize=address,undefined" OFF)
if(MEC4J_SANITIZE)
  # -O1 whatever the build type: the suites run about as fast as at -O2, and the micro-kernels'
  # unrolled templates, instrumented, compile ~8x faster than at -O2.
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1)
  add_link_options(-fsanitize=address,undefined)
endif()

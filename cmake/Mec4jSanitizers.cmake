# MEC4J_SANITIZE=ON builds everything with AddressSanitizer and UndefinedBehaviorSanitizer;
# any report aborts the test (no recovery), so ctest fails on the first finding.
option(MEC4J_SANITIZE "Build with -fsanitize=address,undefined" OFF)
if(MEC4J_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=address,undefined)
endif()

# The shared library: what more than one program needs (README.md lists
# it). Built as libcoldroom-shared.a; nothing in it knows a program.
SHARED_SRCS := $(wildcard shared/*.c)
SHARED_LIB := $(B)/lib/libcoldroom-shared.a
LIBRARIES += $(SHARED_LIB)

$(SHARED_LIB): $(call objs,$(SHARED_SRCS))

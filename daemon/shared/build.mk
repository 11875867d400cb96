# The shared library: what more than one program needs (README.md lists
# it). Built as libcoldroom-shared.a; nothing in it knows a program.
SHARED_SRCS := $(wildcard shared/*.c)
SHARED_LIB := $(B)/lib/libcoldroom-shared.a
LIBRARIES += $(SHARED_LIB)

$(SHARED_LIB): $(call objs,$(SHARED_SRCS))

# hexstr.o is nettle's base16: a program whose code calls it links
# $(HEXSTR_LIBS) (the others do not pull it from the archive).
HEXSTR_LIBS := $(shell pkg-config --libs nettle)
$(B)/obj/shared/hexstr.o: CPPFLAGS += $(shell pkg-config --cflags nettle)

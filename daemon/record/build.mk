# The record: the SQLite database with its hash chains (RECORD.md), for
# the recorder that writes it and for coldroomctl, which verifies a copy.
# Only these link SQLite; coldroomd links nettle too, for the shared
# hex (shared/hexstr.c).
RECORD_SRCS := $(wildcard record/*.c)
RECORD_LIB := $(B)/lib/libcoldroom-record.a
RECORD_CFLAGS := -Irecord $(shell pkg-config --cflags sqlite3 nettle)
RECORD_LIBS := $(shell pkg-config --libs sqlite3 nettle)
LIBRARIES += $(RECORD_LIB)

$(call objs,$(RECORD_SRCS)): CPPFLAGS += $(RECORD_CFLAGS)
$(RECORD_LIB): $(call objs,$(RECORD_SRCS))

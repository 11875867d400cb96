# coldroomctl: the command-line client of every service; reports and
# thermal frames drawn with cairo, a record copy verified with the record
# library, --json written with json-c.
COLDROOMCTL_SRCS := $(filter-out coldroomctl/coldroomctl.c,$(wildcard coldroomctl/*.c))
COLDROOMCTL_LIB := $(B)/lib/libcoldroomctl.a
CAIRO_CFLAGS := $(shell pkg-config --cflags cairo)
CAIRO_LIBS := $(shell pkg-config --libs cairo)
JSONC_CFLAGS := $(shell pkg-config --cflags json-c)
JSONC_LIBS := $(shell pkg-config --libs json-c)
PROGRAMS += $(B)/coldroomctl
LIBRARIES += $(COLDROOMCTL_LIB)

$(call objs,$(wildcard coldroomctl/*.c)): CPPFLAGS += $(CAIRO_CFLAGS) $(RECORD_CFLAGS) $(JSONC_CFLAGS)
$(COLDROOMCTL_LIB): $(call objs,$(COLDROOMCTL_SRCS))

$(B)/coldroomctl: $(B)/obj/coldroomctl/coldroomctl.o $(COLDROOMCTL_LIB) $(RECORD_LIB) $(SHARED_LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(SD_LIBS) $(CAIRO_LIBS) $(RECORD_LIBS) $(JSONC_LIBS) -lm

install: install-coldroomctl
.PHONY: install-coldroomctl
install-coldroomctl: $(B)/coldroomctl
	install -D -m 0755 $(B)/coldroomctl $(DESTDIR)$(bindir)/coldroomctl

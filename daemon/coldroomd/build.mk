# coldroomd: the units' firmware and readings, published as
# org.coldroom.Sensors1 (DBUS-API.md). libcoldroomd.a is all of it but
# main(): the D-Bus tests and the fuzzer link it, and with it libmnl, which
# builds and walks its generic netlink messages.
COLDROOMD_SRCS := $(filter-out coldroomd/coldroomd.c,$(wildcard coldroomd/*.c))
COLDROOMD_LIB := $(B)/lib/libcoldroomd.a
MNL_CFLAGS := $(shell pkg-config --cflags libmnl)
MNL_LIBS := $(shell pkg-config --libs libmnl)
PROGRAMS += $(B)/coldroomd
LIBRARIES += $(COLDROOMD_LIB)

$(call objs,$(wildcard coldroomd/*.c)): CPPFLAGS += $(MNL_CFLAGS)
$(COLDROOMD_LIB): $(call objs,$(COLDROOMD_SRCS))

$(B)/coldroomd: $(B)/obj/coldroomd/coldroomd.o $(COLDROOMD_LIB) $(SHARED_LIB) $(FWLIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(SD_LIBS) $(HEXSTR_LIBS) $(MNL_LIBS) -lm

install: install-coldroomd
.PHONY: install-coldroomd
install-coldroomd: $(B)/coldroomd
	install -D -m 0755 $(B)/coldroomd $(DESTDIR)$(sbindir)/coldroomd
	install -D -m 0644 coldroomd/org.coldroom.Sensors1.xml \
		$(DESTDIR)$(dbusinterfacedir)/org.coldroom.Sensors1.xml
	install -D -m 0644 coldroomd/coldroomd.conf $(DESTDIR)$(sysconfdir)/coldroom/coldroomd.conf
	install -d -m 0755 $(DESTDIR)$(sysconfdir)/coldroom/firmware \
		$(DESTDIR)$(sysconfdir)/coldroom/calibration \
		$(DESTDIR)$(sysconfdir)/coldroom/coldroomd.conf.d

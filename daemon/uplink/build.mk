# coldroom-uplink: the record forwarded to an MQTT broker (MQTT.md), the
# only networked piece; a client of the recorder, with no privileges.
UPLINK_SRCS := $(filter-out uplink/uplink.c,$(wildcard uplink/*.c))
UPLINK_LIB := $(B)/lib/libcoldroom-uplink.a
UPLINK_CFLAGS := $(shell pkg-config --cflags json-c libmosquitto libssl)
UPLINK_LIBS := $(shell pkg-config --libs json-c libmosquitto libssl libcrypto)
PROGRAMS += $(B)/coldroom-uplink
LIBRARIES += $(UPLINK_LIB)

$(call objs,$(wildcard uplink/*.c)): CPPFLAGS += $(UPLINK_CFLAGS)
$(UPLINK_LIB): $(call objs,$(UPLINK_SRCS))

$(B)/coldroom-uplink: $(B)/obj/uplink/uplink.o $(UPLINK_LIB) $(SHARED_LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(SD_LIBS) $(UPLINK_LIBS)

install: install-uplink
.PHONY: install-uplink
# The example settings have every key commented out: the uplink does nothing
# until Broker= and Site= are set, there or in a drop-in of uplink.conf.d/
# (it exits saying "not configured").
install-uplink: $(B)/coldroom-uplink
	install -D -m 0755 $(B)/coldroom-uplink $(DESTDIR)$(sbindir)/coldroom-uplink
	install -D -m 0644 uplink/org.coldroom.Uplink1.xml \
		$(DESTDIR)$(dbusinterfacedir)/org.coldroom.Uplink1.xml
	install -D -m 0644 uplink/uplink.conf $(DESTDIR)$(sysconfdir)/coldroom/uplink.conf
	install -d -m 0755 $(DESTDIR)$(sysconfdir)/coldroom/uplink.conf.d

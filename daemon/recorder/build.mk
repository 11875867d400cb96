# coldroom-recorder: the temperature record and audit trail, and
# org.coldroom.Recorder1 (RECORD.md). A client of coldroomd with none of
# its privileges.
RECORDER_SRCS := $(filter-out recorder/recorder.c,$(wildcard recorder/*.c))
RECORDER_LIB := $(B)/lib/libcoldroom-recorder.a
PROGRAMS += $(B)/coldroom-recorder
LIBRARIES += $(RECORDER_LIB)

$(call objs,$(wildcard recorder/*.c)): CPPFLAGS += $(RECORD_CFLAGS)
$(RECORDER_LIB): $(call objs,$(RECORDER_SRCS))

$(B)/coldroom-recorder: $(B)/obj/recorder/recorder.o $(RECORDER_LIB) $(RECORD_LIB) $(SHARED_LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(SD_LIBS) $(RECORD_LIBS) -lm

install: install-recorder
.PHONY: install-recorder
install-recorder: $(B)/coldroom-recorder
	install -D -m 0755 $(B)/coldroom-recorder $(DESTDIR)$(sbindir)/coldroom-recorder
	install -D -m 0644 recorder/org.coldroom.Recorder1.xml \
		$(DESTDIR)$(dbusinterfacedir)/org.coldroom.Recorder1.xml

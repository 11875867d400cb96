# coldroom-metrics: the Prometheus endpoint (METRICS.md), a client of
# coldroomd with none of its privileges; its HTTP server is libmicrohttpd.
METRICS_SRCS := $(filter-out metrics/metrics.c,$(wildcard metrics/*.c))
METRICS_LIB := $(B)/lib/libcoldroom-metrics.a
MHD_CFLAGS := $(shell pkg-config --cflags libmicrohttpd)
MHD_LIBS := $(shell pkg-config --libs libmicrohttpd)
PROGRAMS += $(B)/coldroom-metrics
LIBRARIES += $(METRICS_LIB)

$(call objs,$(wildcard metrics/*.c)): CPPFLAGS += $(MHD_CFLAGS)
$(METRICS_LIB): $(call objs,$(METRICS_SRCS))

$(B)/coldroom-metrics: $(B)/obj/metrics/metrics.o $(METRICS_LIB) $(SHARED_LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(SD_LIBS) $(MHD_LIBS) -lm

install: install-metrics
.PHONY: install-metrics
install-metrics: $(B)/coldroom-metrics
	install -D -m 0755 $(B)/coldroom-metrics $(DESTDIR)$(sbindir)/coldroom-metrics

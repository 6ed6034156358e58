# Portico: make, make check, make install, make clean.
# ./configure writes config.mk (compiler, flags, libraries, directories).

-include config.mk
ifndef CONFIGURED
$(error run ./configure first)
endif

COMMON_SRC := $(sort $(wildcard common/*.c))
MASTER_SRC := $(sort $(filter-out master/proxyctl.c,$(wildcard master/*.c)))
WORKER_SRC := $(sort $(wildcard worker/*.c))
UNIT_SRC   := $(sort $(wildcard t/unit/*.c))

COMMON_OBJ := $(COMMON_SRC:.c=.o)
PORTICO_OBJ := $(MASTER_SRC:.c=.o) $(WORKER_SRC:.c=.o) $(COMMON_OBJ)
UNIT_BIN   := $(UNIT_SRC:.c=.test)

ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -Icommon -Imaster -Iworker \
	-DSYSCONFDIR='"$(sysconfdir)"' -DLOCALSTATEDIR='"$(localstatedir)"' \
	-DSBINDIR='"$(sbindir)"' \
	-Wall -Wextra -Werror $(DEPS_CFLAGS) $(CFLAGS)

.PHONY: all check unit install uninstall clean distclean

all: portico proxyctl

portico: $(PORTICO_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(PORTICO_OBJ) $(DEPS_LIBS) $(LIBS)

proxyctl: master/proxyctl.o $(COMMON_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ master/proxyctl.o $(COMMON_OBJ) $(DEPS_LIBS) $(LIBS)

%.o: %.c
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

t/unit/%.test: t/unit/%.o $(COMMON_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(COMMON_OBJ) $(DEPS_LIBS) $(LIBS)

unit: $(UNIT_BIN)

# Every test, Perl (t/*.t) and C (t/unit/*.test, printing TAP), in one prove.
check: all unit
	mandoc -T lint -W warning man/*.[58]
	prove $(PROVEFLAGS) --source Perl --source Executable t/*.t $(UNIT_BIN)

install: all
	install -d $(DESTDIR)$(sbindir) $(DESTDIR)$(man5dir) $(DESTDIR)$(man8dir) $(DESTDIR)$(sysconfdir)
	install -m 755 portico proxyctl $(DESTDIR)$(sbindir)/
	install -m 644 man/portico.conf.5 $(DESTDIR)$(man5dir)/
	install -m 644 man/portico.8 $(DESTDIR)$(man8dir)/
	[ -f man/proxyctl.8 ] && install -m 644 man/proxyctl.8 $(DESTDIR)$(man8dir)/ || true
	[ -f $(DESTDIR)$(sysconfdir)/portico.conf ] || install -m 644 etc/portico.conf $(DESTDIR)$(sysconfdir)/

uninstall:
	rm -f $(DESTDIR)$(sbindir)/portico $(DESTDIR)$(sbindir)/proxyctl
	rm -f $(DESTDIR)$(man5dir)/portico.conf.5 $(DESTDIR)$(man8dir)/portico.8 $(DESTDIR)$(man8dir)/proxyctl.8

clean:
	rm -f portico proxyctl */*.o */*.d t/unit/*.o t/unit/*.d t/unit/*.test t/fuzz/*.o

distclean: clean
	rm -f config.mk

-include $(PORTICO_OBJ:.o=.d) master/proxyctl.d $(UNIT_SRC:.c=.d)

# Fuzzing.  make fuzz [FUZZ_SECONDS=60] builds the HTTP/1 parser's fuzz
# target with libFuzzer, ASan and UBSan, and runs it that many seconds.
# t/fuzz/corpus, if there, seeds a copy in a temporary directory: what
# libFuzzer adds to its corpus during a run is not written into the tree.
# An input that crashes the parser is kept as t/fuzz/crash-<sha1>, the
# start of a regression test.  UBSan halts on its first report, so that
# undefined behaviour fails the run as a crash would.
FUZZ_CC      = clang
FUZZ_CFLAGS  = -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 \
	-D_GNU_SOURCE -Icommon
FUZZ_SECONDS = 60

.PHONY: fuzz fuzz-clean

t/fuzz/http1_fuzz: t/fuzz/http1_fuzz.c common/http1.c common/http1.h \
    common/chunked.c common/chunked.h common/pt.h
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ t/fuzz/http1_fuzz.c common/http1.c \
	    common/chunked.c

fuzz: t/fuzz/http1_fuzz
	@corpus=$$(mktemp -d) && trap 'rm -rf "$$corpus"' EXIT && \
	if [ -d t/fuzz/corpus ]; then cp -R t/fuzz/corpus/. "$$corpus"/; fi && \
	echo "fuzz: t/fuzz/http1_fuzz for $(FUZZ_SECONDS) s, corpus in $$corpus" && \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    t/fuzz/http1_fuzz -max_total_time=$(FUZZ_SECONDS) \
	    -artifact_prefix=t/fuzz/ "$$corpus"

# make clean removes the fuzz target too.
clean: fuzz-clean
fuzz-clean:
	rm -f t/fuzz/http1_fuzz

# Objects are rebuilt when ./configure changes the flags.
$(PORTICO_OBJ) master/proxyctl.o $(UNIT_SRC:.c=.o): config.mk

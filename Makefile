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

.PHONY: all check unit install uninstall clean distclean dist distcheck

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

# make install [DESTDIR=DIR]: DESTDIR, for packagers, is put before every
# directory.  The sample portico.conf goes in only where there is none,
# so an edited one stays.  The directories under localstatedir are those
# of the defaults of pid_file and error_log, and of the cache path the
# sample config and DESIGN.md show.
install: all
	install -d "$(DESTDIR)$(sbindir)" "$(DESTDIR)$(man5dir)" \
	    "$(DESTDIR)$(man8dir)" "$(DESTDIR)$(sysconfdir)"
	install -d "$(DESTDIR)$(localstatedir)/log/portico" \
	    "$(DESTDIR)$(localstatedir)/run" \
	    "$(DESTDIR)$(localstatedir)/cache/portico"
	install -m 755 portico proxyctl "$(DESTDIR)$(sbindir)/"
	install -m 644 man/portico.conf.5 "$(DESTDIR)$(man5dir)/"
	install -m 644 man/portico.8 man/proxyctl.8 "$(DESTDIR)$(man8dir)/"
	[ -f "$(DESTDIR)$(sysconfdir)/portico.conf" ] || \
	    install -m 644 etc/portico.conf "$(DESTDIR)$(sysconfdir)/"

# make uninstall removes the programs and man pages, never portico.conf
# (it may be edited) nor the var directories (logs, a pid file).
uninstall:
	rm -f "$(DESTDIR)$(sbindir)/portico" "$(DESTDIR)$(sbindir)/proxyctl"
	rm -f "$(DESTDIR)$(man5dir)/portico.conf.5" \
	    "$(DESTDIR)$(man8dir)/portico.8" "$(DESTDIR)$(man8dir)/proxyctl.8"

clean:
	rm -f portico proxyctl */*.o */*.d t/unit/*.o t/unit/*.d t/unit/*.test t/fuzz/*.o

distclean: clean
	rm -f config.mk

# make dist: portico-VERSION.tar.gz, which unpacks into portico-VERSION/.
# It holds the work tree as git sees it: the files git tracks, as they
# are now, and new ones it does not ignore (named, in case they are not
# meant to ship), but not those that serve the repository only
# (DIST_SKIP); .gitignore keeps out what is built and config.mk.
# Outside a git checkout it refuses rather than guess the list.
DIST      = portico-$(VERSION)
DIST_SKIP = .ci .gitignore

dist:
	@set -e; \
	git_top=$$(git rev-parse --show-toplevel 2>/dev/null) || :; \
	if [ "$$git_top" != "$$(pwd -P)" ]; then \
		echo "make dist: $$(pwd) is not the top of a git checkout;" \
		    "make dist takes its list of files from git ls-files" >&2; \
		exit 1; \
	fi; \
	stage=$$(mktemp -d "$${TMPDIR:-/tmp}/portico-dist.XXXXXX"); \
	trap 'rm -rf "$$stage"' EXIT; \
	skip="$(addprefix :(exclude),$(DIST_SKIP))"; \
	git ls-files --others --exclude-standard -- . $$skip >"$$stage/new"; \
	git ls-files --deleted >"$$stage/deleted"; \
	git ls-files --cached --others --exclude-standard -- . $$skip | \
	    grep -vxF -f "$$stage/deleted" >"$$stage/files" || :; \
	[ ! -s "$$stage/new" ] || echo "make dist: not in git yet, but in" \
	    "$(DIST).tar.gz:" $$(cat "$$stage/new"); \
	mkdir "$$stage/$(DIST)"; \
	tar -cf "$$stage/files.tar" -T "$$stage/files"; \
	tar -xf "$$stage/files.tar" -C "$$stage/$(DIST)"; \
	tar -czf $(DIST).tar.gz.tmp -C "$$stage" $(DIST); \
	mv $(DIST).tar.gz.tmp $(DIST).tar.gz; \
	echo "$(DIST).tar.gz: $$(wc -l <"$$stage/files") files"

# make distcheck: does the tarball stand on its own?  In a scratch
# directory it unpacks it (no build products in it), configures it with
# a prefix there (and DISTCHECK_CONFIGURE_FLAGS), runs make, make check
# (t/31-install.t tries a DESTDIR install) and make install, then checks
# the installed tree: the files, portico -v, portico -t and proxyctl
# configtest finding the installed portico.conf by themselves, and a
# portico started by the installed proxyctl writing its pid file and
# error log where the defaults say, in the installed var directories.
# Then make uninstall must leave portico.conf and the var directories,
# and make distclean exactly the files of the tarball.
DISTCHECK_CONFIGURE_FLAGS =
# What is built, and must not be in the tarball (grep -E).
DIST_BUILT = \.(o|d|test)$$|/\.git/|/(portico|proxyctl|config\.mk|[^/]*_fuzz)$$

distcheck: dist
	@set -e; \
	fail() { echo "make distcheck: $$*" >&2; exit 1; }; \
	step() { printf '\n== make distcheck: %s\n\n' "$$*"; }; \
	top=$$(pwd); \
	scratch=$$(mktemp -d "$${TMPDIR:-/tmp}/portico-distcheck.XXXXXX"); \
	inst=$$scratch/inst; \
	pid_file=$$inst/var/run/portico.pid; \
	trap 'if [ -f "$$pid_file" ]; then \
		kill "$$(cat "$$pid_file")" 2>/dev/null || :; fi; \
	    rm -rf "$$scratch"' EXIT; \
	trap 'exit 1' HUP INT TERM; \
	step "unpack $(DIST).tar.gz in $$scratch"; \
	if tar -tzf $(DIST).tar.gz | grep -E '$(DIST_BUILT)'; then \
		fail "build products in $(DIST).tar.gz (above)"; \
	fi; \
	tar -xzf $(DIST).tar.gz -C "$$scratch"; \
	cd "$$scratch/$(DIST)"; \
	step "configure --prefix=$$inst && make && make check"; \
	./configure --prefix="$$inst" $(DISTCHECK_CONFIGURE_FLAGS); \
	$(MAKE); \
	$(MAKE) check; \
	step "make install"; \
	$(MAKE) install; \
	for f in sbin/portico sbin/proxyctl; do \
		[ -f "$$inst/$$f" ] && [ -x "$$inst/$$f" ] || \
		    fail "$$inst/$$f: not installed, or not executable"; \
	done; \
	for f in etc/portico.conf share/man/man5/portico.conf.5 \
	    share/man/man8/portico.8 share/man/man8/proxyctl.8; do \
		[ -f "$$inst/$$f" ] || fail "$$inst/$$f: not installed"; \
	done; \
	cmp etc/portico.conf "$$inst/etc/portico.conf" || \
	    fail "the installed portico.conf is not etc/portico.conf"; \
	for d in var/log/portico var/run var/cache/portico; do \
		[ -d "$$inst/$$d" ] || fail "$$inst/$$d: not made"; \
	done; \
	v=$$("$$inst/sbin/portico" -v); \
	[ "$$v" = "portico $(VERSION)" ] || \
	    fail "sbin/portico -v says '$$v', not 'portico $(VERSION)'"; \
	"$$inst/sbin/portico" -t -c "$$inst/etc/portico.conf"; \
	out=$$("$$inst/sbin/portico" -t 2>&1) || fail "$$out"; \
	case $$out in \
	*"$$inst/etc/portico.conf"*) echo "$$out" ;; \
	*) fail "portico -t did not check $$inst/etc/portico.conf: $$out" ;; \
	esac; \
	"$$inst/sbin/proxyctl" configtest; \
	step "the installed proxyctl starts and stops portico, default paths"; \
	port=$$(perl -MIO::Socket::INET -e 'print IO::Socket::INET->new( \
	    Listen => 1, LocalAddr => "127.0.0.1:0")->sockport'); \
	{ echo 'workers = 1;'; \
	  echo "listeners = ( { address = \"127.0.0.1:$$port\"; } );"; \
	  echo 'sites = ( { hosts = [ "*" ]; routes = ( { path = "/";' \
	      'return = { status = 200; body = "ok"; }; } ); } );'; \
	} >"$$scratch/run.conf"; \
	"$$inst/sbin/proxyctl" -c "$$scratch/run.conf" start; \
	[ -s "$$pid_file" ] || fail "no pid file $$pid_file"; \
	[ -f "$$inst/var/log/portico/error.log" ] || \
	    fail "no error log $$inst/var/log/portico/error.log"; \
	"$$inst/sbin/proxyctl" -c "$$scratch/run.conf" stop; \
	[ ! -e "$$pid_file" ] || fail "proxyctl stop left $$pid_file"; \
	step "make uninstall"; \
	$(MAKE) uninstall; \
	for f in sbin/portico sbin/proxyctl share/man/man5/portico.conf.5 \
	    share/man/man8/portico.8 share/man/man8/proxyctl.8; do \
		[ ! -e "$$inst/$$f" ] || \
		    fail "make uninstall left $$inst/$$f"; \
	done; \
	[ -f "$$inst/etc/portico.conf" ] || \
	    fail "make uninstall removed portico.conf"; \
	[ -f "$$inst/var/log/portico/error.log" ] || \
	    fail "make uninstall removed the error log"; \
	step "make distclean leaves the files of the tarball"; \
	$(MAKE) distclean; \
	tar -tzf "$$top/$(DIST).tar.gz" | grep -v '/$$' | sort \
	    >"$$scratch/tarball.list"; \
	(cd .. && find $(DIST) ! -type d | sort) >"$$scratch/tree.list"; \
	diff "$$scratch/tarball.list" "$$scratch/tree.list" || \
	    fail "make distclean: files left (>) or removed (<)"; \
	cd "$$top"; \
	echo; \
	echo "$(DIST).tar.gz is ready for distribution"

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

# certa build. `make` builds the library and CLI; `make test` installs what
# the tests need (Debian packages) and runs every test; `make demo` runs the
# README's first command. BUILD=dir puts outputs elsewhere; SAN=1 builds with
# AddressSanitizer + UndefinedBehaviorSanitizer.

BUILD ?= build
CC ?= cc
OPT ?= -O2 -g
WARN := -Wall -Wextra -Werror
ifeq ($(SAN),1)
  override BUILD := $(BUILD)-asan
  OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
  SAN_LDFLAGS := -fsanitize=address,undefined
endif
CPPFLAGS := -Iinclude -Isrc -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L
CFLAGS := -std=c11 $(WARN) $(OPT) -fPIC -MMD -MP $(EXTRA_CFLAGS)
LDLIBS := -lcrypto -lz -lbrotlienc -lbrotlidec -lpthread
# The tools only (the library stays sans-I/O): hiredis for --store, cJSON for CT
# log lists (tools/revocation/ct_logs.c), libpcap for certa fingerprint (tools/fingerprint/),
# gRPC's C core and protobuf-c for the SPIFFE Workload API client (tools/spiffe/).
TOOL_LDLIBS := -lhiredis -lcjson -lpcap -lgrpc -lgpr -lprotobuf-c
LDFLAGS := $(SAN_LDFLAGS) $(EXTRA_LDFLAGS)

LIB_SRC := $(shell find src -name '*.c' | sort)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
# tools/ has one folder per command (ca/, proxy/, serve/, ...) and the helpers
# they share (common/, http/, revocation/, tickets/); their includes name the
# folder ("http/http_parse.h").
TOOL_SRC := $(sort $(shell find tools -name '*.c'))
# The Workload API's messages: protoc-c generates their C from
# tools/spiffe/workload.proto into the build directory (never committed).
PROTO_GEN := $(BUILD)/gen/workload.pb-c.c
TOOL_OBJ := $(TOOL_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/workload.pb-c.o
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TESTLIB_SRC := $(sort $(wildcard tests/unit/lib_*.c))
TESTLIB_OBJ := $(TESTLIB_SRC:%.c=$(BUILD)/obj/%.o)

.PHONY: all lib test test-asan unit demo deps clean format fuzz bench conformance install man
all: lib $(BUILD)/certa $(UNIT_BIN)
lib: $(BUILD)/libcerta.a $(BUILD)/libcerta.so

# ML-KEM's loops (NTT layers, sampling, packing) want the vectoriser and
# unroller at full strength, as BoringSSL's -O3 build has them; not under
# the sanitizers, which keep their own -O1.
ifneq ($(SAN),1)
$(BUILD)/obj/src/pq/%.o: CFLAGS += -O3
endif

$(BUILD)/obj/tools/%.o $(BUILD)/obj/tests/unit/%.o: CPPFLAGS += -Itools

$(BUILD)/gen/workload.pb-c.h: $(PROTO_GEN)
$(PROTO_GEN): tools/spiffe/workload.proto
	@mkdir -p $(dir $@)
	protoc-c --c_out=$(dir $@) --proto_path=tools/spiffe $<
$(BUILD)/obj/gen/workload.pb-c.o: $(PROTO_GEN)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -I$(BUILD)/gen $(CFLAGS) -c $< -o $@
$(BUILD)/obj/tools/spiffe/%.o: CPPFLAGS += -I$(BUILD)/gen
$(filter $(BUILD)/obj/tools/spiffe/%,$(TOOL_OBJ)): | $(BUILD)/gen/workload.pb-c.h

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/libcerta.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# The shared library exports certa_* only (src/libcerta.map) under the
# soname libcerta.so.MAJOR; libcerta.so and libcerta.so.MAJOR are links.
VERSION := $(shell sed -n 's/^\#define CERTA_VERSION "\(.*\)"/\1/p' include/certa.h)
MAJOR := $(firstword $(subst ., ,$(VERSION)))
SONAME := libcerta.so.$(MAJOR)
$(BUILD)/libcerta.so.$(VERSION): $(LIB_OBJ) src/libcerta.map
	$(CC) -shared $(LDFLAGS) -Wl,-soname,$(SONAME) -Wl,--version-script,src/libcerta.map \
		-o $@ $(LIB_OBJ) $(LDLIBS)

$(BUILD)/libcerta.so: $(BUILD)/libcerta.so.$(VERSION)
	ln -sf libcerta.so.$(VERSION) $(BUILD)/$(SONAME)
	ln -sf $(SONAME) $@

$(BUILD)/certa: $(TOOL_OBJ) $(BUILD)/libcerta.a
	$(CC) $(LDFLAGS) -o $@ $(TOOL_OBJ) $(BUILD)/libcerta.a $(LDLIBS) $(TOOL_LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(TESTLIB_OBJ) $(BUILD)/libcerta.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(TESTLIB_OBJ) $(BUILD)/libcerta.a $(LDLIBS) -lssl -lcjson

# Man pages from one source (scripts/man.sh): each command's --help text
# and its prose in man/, certa.h's function list for libcerta(3).
man: $(BUILD)/certa
	@rm -rf $(BUILD)/man
	bash scripts/man.sh $(BUILD)/certa $(BUILD)/man

# make install [PREFIX=/usr/local] [LIBDIR=PREFIX/lib] [DESTDIR=]: the header,
# libcerta.a, libcerta.so.VERSION with its links, certa.pc (pkg-config), the
# CMake package (find_package(certa) -> certa::certa), the certa tool and
# the man pages (PREFIX/share/man).
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
MANDIR ?= $(PREFIX)/share/man
install: lib $(BUILD)/certa man
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3
	install -m 0644 $(BUILD)/man/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(BUILD)/man/*.3 $(DESTDIR)$(MANDIR)/man3/
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/bin \
		$(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(LIBDIR)/cmake/certa
	install -m 0644 include/certa.h $(DESTDIR)$(PREFIX)/include/certa.h
	install -m 0644 $(BUILD)/libcerta.a $(DESTDIR)$(LIBDIR)/libcerta.a
	install -m 0755 $(BUILD)/libcerta.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libcerta.so.$(VERSION)
	ln -sf libcerta.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libcerta.so
	install -m 0755 $(BUILD)/certa $(DESTDIR)$(PREFIX)/bin/certa
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@VERSION@|$(VERSION)|' \
		packaging/certa.pc.in >$(DESTDIR)$(LIBDIR)/pkgconfig/certa.pc
	sed -e 's|@REL_PREFIX@|$(shell realpath -m --relative-to=$(LIBDIR)/cmake/certa $(PREFIX))|' \
		-e 's|@REL_LIBDIR@|$(shell realpath -m --relative-to=$(PREFIX) $(LIBDIR))|' \
		-e 's|@VERSION@|$(VERSION)|g; s|@MAJOR@|$(MAJOR)|g' \
		packaging/certaConfig.cmake.in >$(DESTDIR)$(LIBDIR)/cmake/certa/certaConfig.cmake
	sed -e 's|@VERSION@|$(VERSION)|g; s|@MAJOR@|$(MAJOR)|g' \
		packaging/certaConfigVersion.cmake.in \
		>$(DESTDIR)$(LIBDIR)/cmake/certa/certaConfigVersion.cmake

deps:
	@bash scripts/deps.sh

test: deps
	$(MAKE) all
	bash tests/run.sh $(BUILD)

# Unit and interop tests under ASan+UBSan (leaks are failures).
test-asan: deps
	$(MAKE) SAN=1 all
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 bash tests/run.sh $(BUILD)-asan

demo:
	@bash scripts/deps.sh demo
	$(MAKE) all
	bash scripts/demo.sh $(BUILD)

# tlsfuzzer's TLS 1.2 (and a few 1.3) scripts against certa serve
# (tests/conformance/tlsfuzzer; needs ../shared/tlsfuzzer or CERTA_TLSFUZZER).
conformance: deps
	$(MAKE) all
	bash tests/conformance/tlsfuzzer/run.sh $(BUILD)

# Each fuzz/fuzz_*.c target for FUZZ_SECONDS seconds (libFuzzer, clang).
FUZZ_SECONDS ?= 10
fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz.sh

format:
	clang-format -i $$(find include src tools tests fuzz bench examples -name '*.[ch]' 2>/dev/null)

clean:
	rm -rf build build-asan build-*

-include $(LIB_OBJ:.o=.d) $(TOOL_OBJ:.o=.d) $(TESTLIB_OBJ:.o=.d) $(UNIT_SRC:tests/unit/%.c=$(BUILD)/obj/tests/unit/%.d)

# Side-by-side benchmarks against OpenSSL (bench/run.sh; bench/deps.sh installs
# nginx, HAProxy, stunnel and wrk for the proxy cases).
bench: deps
	@bash bench/deps.sh
	$(MAKE) all
	bash bench/run.sh $(BUILD)

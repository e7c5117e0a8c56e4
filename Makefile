# xsguard — one static binary. `make deps` once, then `make`, `make test`.
CXX      ?= g++
CC       ?= gcc
BUILD    ?= build
OPT      ?= -O2
SAN      ?=
CPPFLAGS := -Isrc -I. -DFMT_HEADER_ONLY -DXSGUARD_VERSION='"$(shell cat VERSION)"'
CXXFLAGS := -std=c++17 $(OPT) -g -Wall -Wextra -ffunction-sections -fdata-sections $(SAN)
CFLAGS   := $(OPT) -Wall -Wextra $(SAN)

LIB_SRC  := $(sort $(shell find src tui -name '*.cc' ! -name '*_test.cc' ! -path 'src/cli/main.cc'))
TEST_SRC := $(sort $(shell find src tui -name '*_test.cc'))
LIB_OBJ  := $(LIB_SRC:%.cc=$(BUILD)/obj/%.o)
TEST_OBJ := $(TEST_SRC:%.cc=$(BUILD)/obj/%.o)
MAIN_OBJ := $(BUILD)/obj/src/cli/main.o
ORACLE_OBJ := $(BUILD)/obj/tests/oracle/grub_oracle_test.o

# Link order matters for the static archives: libblkid/libuuid after libparted,
# the device-mapper stand-in after libparted (Debian ships no libdevmapper.a).
SYSLIBS  := -lpugixml -lparted -lblkid -lnettle -luuid -lncursesw -ltinfo -larchive -lacl -llzma -lzstd -llz4 -lbz2 -lz
# C shims for libparted (src/probe/*.c); the dm stand-in only in the static link.
ifeq ($(SAN),)
  STATIC_OBJ := $(BUILD)/obj/src/probe/parted_env.o $(BUILD)/obj/src/probe/dm_stub.o
  LINKMODE   := -static -Wl,--gc-sections
else
  STATIC_OBJ := $(BUILD)/obj/src/probe/parted_env.o
  LINKMODE   := -Wl,--gc-sections
endif

.PHONY: all deps demo test unit asan fuzz bench images e2e clean terminfo demo-assets
all: $(BUILD)/xsguard

$(BUILD)/xsguard: $(MAIN_OBJ) $(LIB_OBJ) $(STATIC_OBJ)
	$(CXX) $(CXXFLAGS) $(LINKMODE) -o $@ $(MAIN_OBJ) $(LIB_OBJ) $(SYSLIBS) $(STATIC_OBJ)

$(BUILD)/unit_tests: $(TEST_OBJ) $(LIB_OBJ) $(STATIC_OBJ) $(BUILD)/obj/tests/doctest_main.o
	$(CXX) $(CXXFLAGS) $(LINKMODE) -o $@ $(BUILD)/obj/tests/doctest_main.o $(TEST_OBJ) $(LIB_OBJ) $(SYSLIBS) $(STATIC_OBJ)

$(BUILD)/grub_oracle_test: $(ORACLE_OBJ) $(LIB_OBJ) $(STATIC_OBJ)
	$(CXX) $(CXXFLAGS) $(LINKMODE) -o $@ $(ORACLE_OBJ) $(LIB_OBJ) $(SYSLIBS) $(STATIC_OBJ)

$(BUILD)/obj/%.o: %.cc
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

deps:
	@sh tools/install-deps

# The hook files inject puts into install.img are compiled into the binary.
src/inject/hook_files.cc: src/inject/gen_hook_files.sh $(shell find initramfs/lib initramfs/answerfile initramfs/systemd -type f 2>/dev/null)
	sh src/inject/gen_hook_files.sh > $@.tmp && mv $@.tmp $@

# The menu's built-in terminfo entries and its demo (disk image, install log) are
# generated sources kept in the tree, so that building needs neither a terminfo
# database nor the test images. Regenerate them with these targets.
terminfo:
	sh tui/gen_terminfo.sh > tui/terminfo_entries.cc.tmp && mv tui/terminfo_entries.cc.tmp tui/terminfo_entries.cc

demo-assets: images
	$(CXX) -std=c++17 -O2 -Wall -Wextra -o $(BUILD)/gen_demo_assets tools/gen_demo_assets.cc -lz
	$(BUILD)/gen_demo_assets $(BUILD)/images/dell-xs65.img tests/data/logs/bootloader-grub-embed.log > tui/demo_assets.cc.tmp
	mv tui/demo_assets.cc.tmp tui/demo_assets.cc

# Boots an injected stand-in installer under QEMU (also part of `make test`).
e2e: $(BUILD)/xsguard
	@BUILD=$(BUILD) bash tests/e2e/run.sh

images: $(BUILD)/xsguard
	@sh images/build.sh $(BUILD)/images

# The README's two commands: `make demo` and `make test` (both install what they need).
demo: deps
	@$(MAKE) --no-print-directory $(BUILD)/xsguard
	@sh images/build.sh $(BUILD)/images >/dev/null
	@echo '$$ xsguard check --disk $(BUILD)/images/dell-xs65.img'
	@$(BUILD)/xsguard check --disk $(BUILD)/images/dell-xs65.img; echo "(exit code $$?)"
	@echo; echo '$$ xsguard watch --once tests/data/logs/bootloader-grub-embed.log'
	@$(BUILD)/xsguard watch --once tests/data/logs/bootloader-grub-embed.log; echo "(exit code $$?)"
	@echo; echo 'The recovery menu on the same disk, with a live install log (needs a terminal):'
	@echo '    $(BUILD)/xsguard menu --demo'

test: deps
	@$(MAKE) --no-print-directory $(BUILD)/xsguard $(BUILD)/unit_tests $(BUILD)/grub_oracle_test
	@BUILD=$(BUILD) bash tests/run.sh

unit: $(BUILD)/unit_tests
	@$(BUILD)/unit_tests

# Sanitizers need a dynamic link; the same suites run against that build. There
# libparted.so's constructor runs before src/probe/parted_env.c's, so the variable that
# keeps it from running dmidecode (and reading past a buffer) is set here instead.
asan: deps
	@PARTED_GPT_APPLE=0 $(MAKE) --no-print-directory BUILD=build/asan OPT=-O1 SAN='-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all' test

FUZZ_SRC := src/model/partition_table.cc src/model/grub_embed.cc src/model/byte_source.cc
FUZZ_FLAGS := -std=c++17 -g -O1 -Isrc -fsanitize=fuzzer,address,undefined
# Each fuzzer runs FUZZ_SECONDS (default 60): the partition-table reader with GRUB's
# rules, and the xapi database value decoder.
fuzz: $(BUILD)/fuzz_partition_table $(BUILD)/fuzz_xapi_value
	@mkdir -p $(BUILD)/fuzz-corpus $(BUILD)/fuzz-xapi-corpus
	$(BUILD)/fuzz_partition_table -max_total_time=$${FUZZ_SECONDS:-60} -max_len=65536 $(BUILD)/fuzz-corpus tests/fuzz/seeds
	$(BUILD)/fuzz_xapi_value -max_total_time=$${FUZZ_SECONDS:-60} -max_len=65536 $(BUILD)/fuzz-xapi-corpus

$(BUILD)/fuzz_partition_table: tests/fuzz/partition_table_fuzz.cc $(FUZZ_SRC) $(wildcard src/model/*.h)
	@mkdir -p $(dir $@)
	clang++ $(FUZZ_FLAGS) -o $@ tests/fuzz/partition_table_fuzz.cc $(FUZZ_SRC)

$(BUILD)/fuzz_xapi_value: tests/fuzz/xapi_value_fuzz.cc $(wildcard src/xapi/*.cc src/xapi/*.h)
	@mkdir -p $(dir $@)
	clang++ $(FUZZ_FLAGS) -o $@ tests/fuzz/xapi_value_fuzz.cc $(filter-out %_test.cc,$(wildcard src/xapi/*.cc)) -lz

bench: $(BUILD)/xsguard
	@BUILD=$(BUILD) bash bench/run.sh

clean:
	rm -rf build

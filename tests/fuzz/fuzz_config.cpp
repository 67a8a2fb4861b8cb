// libFuzzer target: hubd's configuration loader on arbitrary text (the clients file has its own
// target, fuzz_clients.cpp).
//
// Relative paths resolve against an empty scratch directory. Properties checked on every
// input:
//  - nothing throws or hangs (a path such as /dev/zero or a huge file must be refused, not
//    read without end);
//  - an error names a problem (its text is printed at start-up);
//  - a configuration that loads has a data_dir, valid plugin ids and parsed catalogues.
#include <cstddef>
#include <cstdint>
#include <string>
#include <unistd.h>

#include "config/hub_config.h"
#include "fuzz_check.h"
#include "domain/wire_event.h"

namespace {

const hub::ConfigSources& sources() {
  static const hub::ConfigSources s = [] {
    char dir_template[] = "/tmp/hub-fuzz-config-XXXXXX";
    const char* dir = mkdtemp(dir_template);
    FUZZ_CHECK(dir != nullptr, "a temporary directory");
    return hub::ConfigSources{dir, std::string(dir) + "/bin"};
  }();
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto loaded = hub::load_hub_config(text, sources());
  if (auto* e = std::get_if<hub::ConfigError>(&loaded)) {
    FUZZ_CHECK(!e->message.empty(), "an error says what is wrong");
    (void)e->to_string();
    return 0;
  }
  const auto& config = std::get<hub::HubConfig>(loaded);
  FUZZ_CHECK(!config.data_dir.empty(), "a data_dir");
  for (const auto& p : config.plugins) {
    FUZZ_CHECK(hub::is_valid_id(p.id), "a valid department id");
    FUZZ_CHECK(p.catalogue.department() == p.id, "the department's own catalogue");
  }
  return 0;
}

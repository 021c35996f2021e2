// Tests for rotina::config: defaults, good files, overrides, and one case per
// configuration error (each must name where, which key and what was expected).

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <caf/atom.hpp>
#include <caf/settings.hpp>

#include <rotina/config.hpp>

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

/// A uniquely named INI file in the temp directory, removed on destruction.
class temp_ini {
public:
  explicit temp_ini(const std::string& text) {
    static std::atomic<int> counter{0};
    path_ = (fs::temp_directory_path()
             / ("rotina-config-test-" + std::to_string(getpid()) + "-"
                + std::to_string(counter++) + ".ini"))
              .string();
    std::ofstream out{path_};
    out << text;
  }

  ~temp_ini() {
    std::error_code ec;
    fs::remove(path_, ec);
  }

  const std::string& path() const {
    return path_;
  }

private:
  std::string path_;
};

rotina::options from_file(const temp_ini& file,
                          std::vector<std::string> overrides = {}) {
  return rotina::options{file.path(), std::move(overrides)};
}

/// Loads `opts` into a fresh config and returns the config_error message, or
/// fails the test when loading succeeds.
std::string load_error(const rotina::options& opts) {
  rotina::config cfg;
  try {
    cfg.load(opts);
  } catch (const rotina::config_error& err) {
    return err.what();
  }
  BOOST_FAIL("expected a config_error");
  return {};
}

std::string load_error(const std::string& ini_text) {
  temp_ini file{ini_text};
  auto msg = load_error(from_file(file));
  // Every file error starts with the file name; strip it to keep tests short.
  BOOST_TEST_REQUIRE(msg.rfind(file.path(), 0) == 0, msg);
  return "FILE" + msg.substr(file.path().size());
}

std::string source_path(const std::string& relative) {
  return std::string{ROTINA_SOURCE_DIR} + "/" + relative;
}

} // namespace

BOOST_AUTO_TEST_SUITE(config_suite)

// -- defaults -----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(defaults_match_documentation) {
  rotina::config cfg;
  BOOST_TEST(cfg.node_name == "");
  BOOST_TEST(cfg.listen_host == "127.0.0.1");
  BOOST_TEST(cfg.listen_port == 0);
  BOOST_TEST(cfg.peers.empty());
  BOOST_TEST(cfg.heartbeat_interval.count() == caf::timespan{500ms}.count());
  BOOST_TEST(cfg.heartbeat_timeout.count() == caf::timespan{2s}.count());
  BOOST_TEST((cfg.on_shutdown == rotina::shutdown_policy::wait));
  BOOST_TEST(cfg.shutdown_timeout.count() == caf::timespan{10s}.count());
  BOOST_TEST(cfg.default_capacity == 0u);
  BOOST_TEST(cfg.scheduler_policy == "rotina");
  BOOST_TEST(cfg.max_threads
             == std::max<size_t>(2, std::thread::hardware_concurrency()));
  BOOST_TEST(!cfg.distributed());
}

BOOST_AUTO_TEST_CASE(loading_no_file_keeps_defaults_and_fills_content) {
  rotina::config cfg;
  cfg.load({});
  BOOST_TEST(cfg.listen_host == "127.0.0.1");
  BOOST_TEST(cfg.get<std::string>("rotina.listen-host", "?") == "127.0.0.1");
  BOOST_TEST(cfg.get<int64_t>("rotina.listen-port", -1) == 0);
  BOOST_TEST(cfg.get<std::string>("rotina.shutdown", "?") == "wait");
  BOOST_TEST(cfg.get<int64_t>("scheduler.max-threads", 0)
             == static_cast<int64_t>(cfg.max_threads));
  // Local only: CAF's heartbeats stay off.
  BOOST_TEST(
    cfg.get<caf::timespan>("middleman.heartbeat-interval", caf::timespan{7})
      .count()
    == 7);
  BOOST_TEST(cfg.source_of("rotina.listen-port") == "default");
}

// -- good files and overrides -------------------------------------------------

BOOST_AUTO_TEST_CASE(good_file_sets_every_rotina_key) {
  temp_ini file{R"(; a complete [rotina] section
[rotina]
node-name = "alpha"
listen-host = "0.0.0.0"     ; all interfaces
listen-port = 4301
peers = ["127.0.0.1:4302",
         "[::1]:4303"]
heartbeat-interval = 200ms
heartbeat-timeout = 1s
shutdown = "cancel"
shutdown-timeout = 2min
default-capacity = 16

[scheduler]
policy = 'sharing'
max-threads = 3
)"};
  rotina::config cfg;
  cfg.load(from_file(file));
  BOOST_TEST(cfg.node_name == "alpha");
  BOOST_TEST(cfg.listen_host == "0.0.0.0");
  BOOST_TEST(cfg.listen_port == 4301);
  BOOST_TEST(cfg.peers.size() == 2u);
  BOOST_TEST(cfg.peers.at(1) == "[::1]:4303");
  BOOST_TEST(cfg.heartbeat_interval.count() == caf::timespan{200ms}.count());
  BOOST_TEST(cfg.heartbeat_timeout.count() == caf::timespan{1s}.count());
  BOOST_TEST((cfg.on_shutdown == rotina::shutdown_policy::cancel));
  BOOST_TEST(cfg.shutdown_timeout.count() == caf::timespan{120s}.count());
  BOOST_TEST(cfg.default_capacity == 16u);
  BOOST_TEST(cfg.scheduler_policy == "sharing");
  BOOST_TEST(cfg.max_threads == 3u);
  BOOST_TEST(cfg.distributed());
  BOOST_TEST(cfg.source_of("rotina.listen-port") == file.path() + ":5");
  BOOST_TEST(cfg.source_of("rotina.heartbeat-interval") == file.path() + ":8");
  // CAF sees the policy as an atom and the thread count as an integer.
  BOOST_TEST((cfg.get<caf::atom_value>("scheduler.policy", caf::atom("none"))
              == caf::atom("sharing")));
  BOOST_TEST(cfg.get<int64_t>("scheduler.max-threads", 0) == 3);
  // Distributed: rotina's heartbeat settings become CAF's.
  BOOST_TEST(
    cfg.get<caf::timespan>("middleman.heartbeat-interval", caf::timespan{0})
      .count()
    == caf::timespan{200ms}.count());
  BOOST_TEST(
    cfg.get<caf::timespan>("middleman.connection-timeout", caf::timespan{0})
      .count()
    == caf::timespan{1s}.count());
}

BOOST_AUTO_TEST_CASE(caf_sections_reach_caf_settings) {
  temp_ini file{R"([scheduler]
max-throughput = 100
policy = 'stealing'
[middleman]
workers = 0
app-identifiers = ["rotina-test"]
heartbeat-interval = 100ms
connection-timeout = 500ms
[work-stealing]
moderate-sleep-duration = 16us
)"};
  rotina::config cfg;
  cfg.load(from_file(file));
  BOOST_TEST(cfg.get<int64_t>("scheduler.max-throughput", 0) == 100);
  BOOST_TEST(cfg.get<int64_t>("middleman.workers", 9) == 0);
  auto ids = cfg.get<std::vector<std::string>>("middleman.app-identifiers", {});
  BOOST_TEST(ids.size() == 1u);
  BOOST_TEST(ids.at(0) == "rotina-test");
  // Explicit middleman values are kept even on a local-only node.
  BOOST_TEST(
    cfg.get<caf::timespan>("middleman.heartbeat-interval", caf::timespan{0})
      .count()
    == caf::timespan{100ms}.count());
  BOOST_TEST(cfg
               .get<caf::timespan>("work-stealing.moderate-sleep-duration",
                                   caf::timespan{0})
               .count()
             == caf::timespan{16us}.count());
}

BOOST_AUTO_TEST_CASE(override_beats_file) {
  temp_ini file{"[rotina]\nlisten-port = 4301\nnode-name = \"file\"\n"};
  rotina::config cfg;
  cfg.load(
    from_file(file, {"--rotina.listen-port=4400", "scheduler.max-threads=2"}));
  BOOST_TEST(cfg.listen_port == 4400);
  BOOST_TEST(cfg.node_name == "file");
  BOOST_TEST(cfg.max_threads == 2u);
  BOOST_TEST(cfg.source_of("rotina.listen-port") == "command line");
  BOOST_TEST(cfg.source_of("rotina.node-name") == file.path() + ":3");
}

BOOST_AUTO_TEST_CASE(override_without_section_targets_rotina) {
  rotina::config cfg;
  cfg.load({"",
            {"--node-name=bare", "--caf#scheduler.policy=stealing",
             "--peers=[\"localhost:1\"]"}});
  BOOST_TEST(cfg.node_name == "bare");
  BOOST_TEST(cfg.scheduler_policy == "stealing");
  BOOST_TEST(cfg.peers.size() == 1u);
}

// Issue 9: CAF's setting said 'stealing' while rotina's scheduler ran.
BOOST_AUTO_TEST_CASE(caf_setting_names_the_rotina_policy_that_runs) {
  rotina::config cfg;
  cfg.load({});
  BOOST_TEST(cfg.scheduler_policy == "rotina");
  BOOST_TEST((cfg.get<caf::atom_value>("scheduler.policy", caf::atom("none"))
              == caf::atom("rotina")));
}

BOOST_AUTO_TEST_CASE(failed_load_leaves_config_unchanged) {
  temp_ini file{"[rotina]\nlisten-port = 4301\nnode-name = 7\n"};
  rotina::config cfg;
  BOOST_CHECK_THROW(cfg.load(from_file(file)), rotina::config_error);
  BOOST_TEST(cfg.listen_port == 0);
  // The field is the key's only storage: get() reads it.
  BOOST_TEST(cfg.get<int64_t>("rotina.listen-port", -1) == 0);
  BOOST_TEST(cfg.source_of("rotina.listen-port") == "default");
}

BOOST_AUTO_TEST_CASE(shipped_config_files_load) {
  rotina::config single;
  single.load({source_path("config/default.ini"), {}});
  BOOST_TEST(!single.distributed());
  std::vector<uint16_t> ports;
  for (auto node : {"node-a", "node-b", "node-c"}) {
    rotina::config cfg;
    cfg.load({source_path("config/cluster-3node/") + node + ".ini", {}});
    BOOST_TEST(cfg.node_name == node);
    BOOST_TEST(cfg.peers.size() == 2u);
    BOOST_TEST(cfg.heartbeat_interval.count() > 0);
    ports.push_back(cfg.listen_port);
  }
  BOOST_TEST(ports.at(0) != ports.at(1));
  BOOST_TEST(ports.at(1) != ports.at(2));
  BOOST_TEST(ports.at(0) != ports.at(2));
}

BOOST_AUTO_TEST_CASE(every_key_is_documented_with_its_default) {
  std::ifstream in{source_path("docs/config.md")};
  BOOST_TEST_REQUIRE(in.good());
  std::stringstream buf;
  buf << in.rdbuf();
  auto doc = buf.str();
  for (auto& key : rotina::config::known_keys()) {
    // The key's row in a markdown table: | `section.key` | type | default |
    auto name = "| `" + key.section + "." + key.name + "` |";
    auto pos = doc.find(name);
    BOOST_TEST(pos != std::string::npos, name << " missing in docs/config.md");
    if (pos == std::string::npos)
      continue;
    auto line_end = doc.find('\n', pos);
    auto line = doc.substr(pos, line_end - pos);
    BOOST_TEST(line.find(key.default_value) != std::string::npos,
               name << ": default " << key.default_value
                    << " not on its line: " << line);
  }
}

// -- file errors --------------------------------------------------------------

BOOST_AUTO_TEST_CASE(missing_file_is_an_error) {
  auto msg = load_error(rotina::options{"/nonexistent/rotina.ini", {}});
  BOOST_TEST(msg
             == "/nonexistent/rotina.ini: cannot open config file: No such "
                "file or directory");
}

BOOST_AUTO_TEST_CASE(directory_is_an_unreadable_file) {
  auto dir = fs::temp_directory_path().string();
  auto msg = load_error(rotina::options{dir, {}});
  BOOST_TEST(msg == dir + ": cannot read config file: is a directory");
}

BOOST_AUTO_TEST_CASE(syntax_errors_name_the_line_and_the_problem) {
  BOOST_TEST(load_error("[rotina]\n\nlisten-port 4301\n")
             == "FILE:3: syntax error: expected 'key = value', found "
                "'listen-port 4301'");
  BOOST_TEST(load_error("[rotina]\nnode-name = \"abc\n")
             == "FILE:2: syntax error: unterminated string (missing closing "
                "'\"')");
  BOOST_TEST(load_error("[rotina\n")
             == "FILE:1: syntax error: malformed section header, expected "
                "'[name]'");
  BOOST_TEST(load_error("# comment\n")
             == "FILE:1: syntax error: comments start with ';' in CAF INI "
                "files, found '# comment'");
  BOOST_TEST(load_error("listen-port = 1\n")
             == "FILE:1: syntax error: key 'listen-port' appears before the "
                "first [section] header");
  BOOST_TEST(load_error("[rotina]\npeers = [\"a:1\",\n\"b:2\"\n")
             == "FILE:2: syntax error: unterminated list (missing ']')");
  BOOST_TEST(load_error("[rotina]\nlisten-port = 1 2\n")
             == "FILE:2: syntax error: unexpected '2' after the value of "
                "'listen-port'");
  BOOST_TEST(load_error("[rotina]\nnode-name =\n")
             == "FILE:2: syntax error: missing value after '='");
}

BOOST_AUTO_TEST_CASE(unknown_rotina_key_suggests_the_closest_key) {
  BOOST_TEST(load_error("[rotina]\n; typo below\n\nlisten-prot = 4301\n")
             == "FILE:4: unknown key 'rotina.listen-prot' in [rotina]; did "
                "you mean 'listen-port'?");
}

BOOST_AUTO_TEST_CASE(unknown_key_far_from_any_gets_no_suggestion) {
  BOOST_TEST(load_error("[rotina]\ncolour = 1\n")
             == "FILE:2: unknown key 'rotina.colour' in [rotina]");
}

BOOST_AUTO_TEST_CASE(key_in_wrong_section_suggests_the_right_section) {
  BOOST_TEST(load_error("[rotina]\nmax-threads = 2\n")
             == "FILE:2: unknown key 'rotina.max-threads' in [rotina]; did "
                "you mean 'scheduler.max-threads'?");
}

BOOST_AUTO_TEST_CASE(unknown_section_suggests_the_closest_section) {
  BOOST_TEST(load_error("[rotina]\n\n[schedular]\nmax-threads = 2\n")
             == "FILE:3: unknown section [schedular]; did you mean "
                "[scheduler]?");
}

BOOST_AUTO_TEST_CASE(unknown_key_in_caf_section_suggests_the_closest_key) {
  BOOST_TEST(load_error("[middleman]\nheartbeat-intervall = 1s\n")
             == "FILE:2: unknown key 'middleman.heartbeat-intervall' in "
                "[middleman]; did you mean 'heartbeat-interval'?");
}

BOOST_AUTO_TEST_CASE(string_for_integer_key_is_a_type_error) {
  BOOST_TEST(load_error("[rotina]\nlisten-port = \"abc\"\n")
             == "FILE:2: invalid value for 'rotina.listen-port': expected an "
                "integer in 0..65535, got \"abc\"");
  BOOST_TEST(load_error("[rotina]\nlisten-port = abc\n")
             == "FILE:2: invalid value for 'rotina.listen-port': expected an "
                "integer in 0..65535, got abc");
}

BOOST_AUTO_TEST_CASE(port_out_of_range_is_rejected) {
  BOOST_TEST(load_error("[rotina]\nlisten-port = 70000\n")
             == "FILE:2: invalid value for 'rotina.listen-port': expected an "
                "integer in 0..65535, got 70000");
  BOOST_TEST(load_error("[rotina]\nlisten-port = -1\n")
             == "FILE:2: invalid value for 'rotina.listen-port': expected an "
                "integer in 0..65535, got -1");
  BOOST_TEST(load_error("[rotina]\nlisten-port = 99999999999999999999999\n")
             == "FILE:2: invalid value for 'rotina.listen-port': expected an "
                "integer in 0..65535, got 99999999999999999999999");
}

BOOST_AUTO_TEST_CASE(zero_max_threads_is_rejected) {
  BOOST_TEST(load_error("[scheduler]\nmax-threads = 0\n")
             == "FILE:2: invalid value for 'scheduler.max-threads': expected "
                "an integer in 1..4096, got 0");
}

BOOST_AUTO_TEST_CASE(heartbeat_timeout_below_twice_interval_is_rejected) {
  BOOST_TEST(load_error("[rotina]\nheartbeat-interval = 1s\n"
                        "heartbeat-timeout = 1500ms\n")
             == "FILE:3: invalid value for 'rotina.heartbeat-timeout': must "
                "be at least 2 x rotina.heartbeat-interval (1s), got 1500ms");
  // Raising only the interval blames the interval's line.
  BOOST_TEST(load_error("[rotina]\nheartbeat-interval = 3s\n")
             == "FILE:2: invalid value for 'rotina.heartbeat-timeout': must "
                "be at least 2 x rotina.heartbeat-interval (3s), got 2s");
}

BOOST_AUTO_TEST_CASE(duration_without_unit_is_a_type_error) {
  BOOST_TEST(load_error("[rotina]\nshutdown-timeout = 10\n")
             == "FILE:2: invalid value for 'rotina.shutdown-timeout': "
                "expected a duration like 100ms, 1s or 5min (units: ns, us, "
                "ms, s, min, h), got 10");
  BOOST_TEST(load_error("[middleman]\nheartbeat-interval = 1sec\n")
             == "FILE:2: invalid value for 'middleman.heartbeat-interval': "
                "expected a duration like 100ms, 1s or 5min (units: ns, us, "
                "ms, s, min, h), got 1sec");
}

BOOST_AUTO_TEST_CASE(bad_peers_are_rejected) {
  BOOST_TEST(load_error("[rotina]\npeers = [\"localhost\"]\n")
             == "FILE:2: invalid value for 'rotina.peers': bad peer "
                "\"localhost\": missing ':port', got [\"localhost\"]");
  BOOST_TEST(load_error("[rotina]\npeers = [\"a:1\", \"b:0\"]\n")
             == "FILE:2: invalid value for 'rotina.peers': bad peer \"b:0\": "
                "port must be an integer in 1..65535, got [\"a:1\", \"b:0\"]");
  BOOST_TEST(load_error("[rotina]\npeers = [\":4301\"]\n")
             == "FILE:2: invalid value for 'rotina.peers': bad peer "
                "\":4301\": missing host, got [\":4301\"]");
  BOOST_TEST(load_error("[rotina]\npeers = \"a:1\"\n")
             == "FILE:2: invalid value for 'rotina.peers': expected a list of "
                "\"host:port\" strings like [\"127.0.0.1:4301\"], got \"a:1\"");
  BOOST_TEST(load_error("[rotina]\npeers = [4301]\n")
             == "FILE:2: invalid value for 'rotina.peers': expected a list of "
                "\"host:port\" strings like [\"127.0.0.1:4301\"]; element 4301 "
                "is an integer, got [4301]");
}

BOOST_AUTO_TEST_CASE(enum_keys_list_their_choices) {
  BOOST_TEST(load_error("[rotina]\nshutdown = \"later\"\n")
             == "FILE:2: invalid value for 'rotina.shutdown': expected one of "
                "\"wait\" or \"cancel\", got \"later\"");
  BOOST_TEST(load_error("[scheduler]\npolicy = 'fifo'\n")
             == "FILE:2: invalid value for 'scheduler.policy': expected one "
                "of \"rotina\", \"stealing\" or \"sharing\", got 'fifo'");
  BOOST_TEST(load_error("[middleman]\nnetwork-backend = 'asio'\n")
             == "FILE:2: invalid value for 'middleman.network-backend': "
                "expected one of \"default\", got 'asio'");
}

BOOST_AUTO_TEST_CASE(caf_keys_are_type_checked) {
  BOOST_TEST(load_error("[scheduler]\nmax-threads = true\n")
             == "FILE:2: invalid value for 'scheduler.max-threads': expected "
                "an integer in 1..4096, got true");
  BOOST_TEST(load_error("[middleman]\nenable-automatic-connections = 1\n")
             == "FILE:2: invalid value for "
                "'middleman.enable-automatic-connections': expected true or "
                "false, got 1");
  BOOST_TEST(load_error("[middleman]\napp-identifiers = \"x\"\n")
             == "FILE:2: invalid value for 'middleman.app-identifiers': "
                "expected a list of strings like [\"a\", \"b\"], got \"x\"");
  BOOST_TEST(load_error("[middleman]\nheartbeat-interval = 1s\n"
                        "connection-timeout = 1s\n")
             == "FILE:3: invalid value for 'middleman.connection-timeout': "
                "must be at least 2 x middleman.heartbeat-interval (1s), got "
                "1s");
}

BOOST_AUTO_TEST_CASE(duplicate_key_is_rejected) {
  BOOST_TEST(load_error("[rotina]\nlisten-port = 1\n[scheduler]\n[rotina]\n"
                        "listen-port = 2\n")
             == "FILE:5: duplicate key 'rotina.listen-port' (first set on "
                "line 2)");
}

// -- issue 9: keys that took no effect, files that hung, durations that wrapped

BOOST_AUTO_TEST_CASE(fifo_and_device_are_not_regular_files) {
  // Reading a FIFO blocked for ever; /dev/zero ended in bad_alloc.
  auto fifo = (fs::temp_directory_path()
               / ("rotina-config-fifo-" + std::to_string(getpid())))
                .string();
  BOOST_TEST_REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  // Bound the test if load() opens the FIFO after all: a writer that comes
  // and goes lets the blocked open return (and the test fail, not hang).
  std::atomic<bool> done{false};
  std::thread writer{[&] {
    for (int i = 0; i < 1000 && !done; ++i) {
      auto fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
      if (fd >= 0) {
        ::close(fd);
        return;
      }
      std::this_thread::sleep_for(10ms);
    }
  }};
  auto msg = load_error(rotina::options{fifo, {}});
  done = true;
  writer.join();
  fs::remove(fifo);
  BOOST_TEST(msg == fifo + ": cannot read config file: not a regular file");
  BOOST_TEST(load_error(rotina::options{"/dev/zero", {}})
             == "/dev/zero: cannot read config file: not a regular file");
}

BOOST_AUTO_TEST_CASE(file_over_one_mib_is_refused) {
  temp_ini file{"[rotina]\n" + std::string(1 << 20, ';') + "\n"};
  BOOST_TEST(load_error(from_file(file))
             == file.path() + ": cannot read config file: larger than 1 MiB");
}

BOOST_AUTO_TEST_CASE(durations_that_overflow_are_out_of_range) {
  // 18446744074s is 2^64 ns: it wrapped to 290448384ns (and was undefined).
  BOOST_TEST(load_error("[rotina]\nshutdown-timeout = 18446744074s\n")
             == "FILE:2: invalid value for 'rotina.shutdown-timeout': out of "
                "range (a duration holds at most 9223372036s, about 292 "
                "years), got 18446744074s");
  BOOST_TEST(load_error("[middleman]\nheartbeat-interval = 2562048h ; x\n")
             == "FILE:2: invalid value for 'middleman.heartbeat-interval': "
                "out of range (a duration holds at most 9223372036s, about "
                "292 years), got 2562048h");
  BOOST_TEST(
    load_error(rotina::options{"", {"--shutdown-timeout=153722868min"}})
    == "command line: invalid value for 'rotina.shutdown-timeout': "
       "out of range (a duration holds at most 9223372036s, about "
       "292 years), got 153722868min");
  // CAF's grammar has no 'd' unit.
  BOOST_TEST(load_error("[rotina]\nshutdown-timeout = 106752d\n")
             == "FILE:2: invalid value for 'rotina.shutdown-timeout': "
                "expected a duration like 100ms, 1s or 5min (units: ns, us, "
                "ms, s, min, h), got 106752d");
  // The largest value that fits still loads.
  rotina::config cfg;
  cfg.load({"", {"--shutdown-timeout=2562047h"}});
  BOOST_TEST(cfg.shutdown_timeout.count()
             == caf::timespan{std::chrono::hours{2562047}}.count());
}

BOOST_AUTO_TEST_CASE(huge_heartbeats_are_compared_without_overflow) {
  // 2 x 9223372036s does not fit: the rule must not compute it.
  BOOST_TEST(load_error("[rotina]\nheartbeat-interval = 9223372036s\n"
                        "heartbeat-timeout = 9223372036854775807ns\n")
             == "FILE:3: invalid value for 'rotina.heartbeat-timeout': must "
                "be at least 2 x rotina.heartbeat-interval (9223372036s), got "
                "9223372036854775807ns");
}

BOOST_AUTO_TEST_CASE(crlf_files_load_like_lf_files) {
  temp_ini file{"[rotina]\r\nlisten-port = 4301 ; x\r\n"};
  rotina::config cfg;
  cfg.load(from_file(file));
  BOOST_TEST(cfg.listen_port == 4301);
}

BOOST_AUTO_TEST_CASE(nested_groups_are_unknown_keys) {
  // CAF reads "[a.b]" as key b of section a; its value used to be sliced
  // from past the end of the file (found by fuzzing under UBSan).
  BOOST_TEST(load_error("[scheduler.x]")
             == "FILE:1: unknown key 'scheduler.x' in [scheduler]");
  BOOST_TEST(load_error("[scheduler.x]-5[ ")
             == "FILE:1: unknown key 'scheduler.x' in [scheduler]");
}

BOOST_AUTO_TEST_CASE(more_syntax_errors_are_worded) {
  BOOST_TEST(load_error("[rotina]\n= 5\n")
             == "FILE:2: syntax error: expected 'key = value', found '= 5'");
  BOOST_TEST(load_error(rotina::options{"", {"--listen-port=1 2"}})
             == "command line (--rotina.listen-port): syntax error: "
                "unexpected '2' after the value of 'listen-port'");
}

BOOST_AUTO_TEST_CASE(logger_keys_are_refused_without_logging) {
  BOOST_TEST(load_error("[logger]\nverbosity = 'debug'\n")
             == "FILE:2: key 'logger.verbosity' is refused: CAF was built "
                "without logging (CAF_LOG_LEVEL is quiet in "
                "caf/detail/build_config.hpp), so [logger] keys have no "
                "effect");
}

BOOST_AUTO_TEST_CASE(work_stealing_keys_need_the_stealing_policy) {
  BOOST_TEST(load_error("[work-stealing]\nrelaxed-steal-interval = 2\n")
             == "FILE:2: key 'work-stealing.relaxed-steal-interval' is "
                "refused: only CAF's \"stealing\" scheduler reads "
                "[work-stealing], and scheduler.policy is \"rotina\"");
  BOOST_TEST(load_error(rotina::options{"",
                                        {"--scheduler.policy=sharing",
                                         "--work-stealing.relaxed-steal-"
                                         "interval=2"}})
             == "command line: key 'work-stealing.relaxed-steal-interval' is "
                "refused: only CAF's \"stealing\" scheduler reads "
                "[work-stealing], and scheduler.policy is \"sharing\"");
  rotina::config cfg;
  cfg.load({"",
            {"--scheduler.policy=stealing",
             "--work-stealing.relaxed-steal-interval=2"}});
  BOOST_TEST(cfg.get<int64_t>("work-stealing.relaxed-steal-interval", 0) == 2);
}

BOOST_AUTO_TEST_CASE(profiler_keys_need_a_caf_scheduler) {
  BOOST_TEST(load_error("[scheduler]\nenable-profiling = true\n")
             == "FILE:2: key 'scheduler.enable-profiling' is refused: only "
                "CAF's \"stealing\" and \"sharing\" schedulers profile, and "
                "scheduler.policy is \"rotina\"");
}

BOOST_AUTO_TEST_CASE(testing_policy_is_refused_with_the_reason) {
  BOOST_TEST(load_error("[scheduler]\npolicy = 'testing'\n")
             == "FILE:2: invalid value for 'scheduler.policy': 'testing' "
                "needs CAF's test coordinator, which rotina does not drive");
}

BOOST_AUTO_TEST_CASE(maps_parse_as_caf_does_and_are_type_checked) {
  BOOST_TEST(load_error("[rotina]\nnode-name = {a = \"b\"}\n")
             == "FILE:2: invalid value for 'rotina.node-name': expected a "
                "string, got {a = \"b\"}");
}

BOOST_AUTO_TEST_CASE(dump_lists_every_key_with_value_and_origin) {
  temp_ini file{"[rotina]\nlisten-port = 4301\n"};
  rotina::config cfg;
  cfg.load(from_file(file, {"--scheduler.max-threads=3"}));
  std::ostringstream out;
  cfg.dump(out);
  auto text = out.str();
  BOOST_TEST(text.find("[rotina]\n") != std::string::npos);
  BOOST_TEST(text.find("listen-port = 4301 ; " + file.path() + ":2\n")
               != std::string::npos,
             text);
  BOOST_TEST(text.find("max-threads = 3 ; command line\n") != std::string::npos,
             text);
  BOOST_TEST(text.find("policy = 'rotina' ; default\n") != std::string::npos,
             text);
  BOOST_TEST(text.find("shutdown = \"wait\" ; default\n") != std::string::npos,
             text);
  for (auto& key : rotina::config::known_keys()) {
    bool listed = text.find("\n" + key.name + " = ") != std::string::npos
                  || text.find("\n; " + key.name + " = ") != std::string::npos;
    BOOST_TEST(listed, key.name << " missing in the dump");
  }
  // What it prints loads again, to the same values.
  temp_ini again{text};
  rotina::config cfg2;
  cfg2.load(from_file(again));
  BOOST_TEST(cfg2.listen_port == 4301);
  BOOST_TEST(cfg2.max_threads == 3u);
  BOOST_TEST(cfg2.heartbeat_interval.count() == cfg.heartbeat_interval.count());
}

// -- command-line errors ------------------------------------------------------

BOOST_AUTO_TEST_CASE(override_errors_say_command_line) {
  BOOST_TEST(load_error(rotina::options{"", {"--rotina.listen-prot=1"}})
             == "command line: unknown key 'rotina.listen-prot' in [rotina]; "
                "did you mean 'listen-port'?");
  BOOST_TEST(load_error(rotina::options{"", {"--rotina.listen-port=abc"}})
             == "command line: invalid value for 'rotina.listen-port': "
                "expected an integer in 0..65535, got abc");
  BOOST_TEST(load_error(rotina::options{"", {"--rotina.listen-port=70000"}})
             == "command line: invalid value for 'rotina.listen-port': "
                "expected an integer in 0..65535, got 70000");
  BOOST_TEST(load_error(rotina::options{"", {"--scheduler.max-threads=0"}})
             == "command line: invalid value for 'scheduler.max-threads': "
                "expected an integer in 1..4096, got 0");
  BOOST_TEST(load_error(rotina::options{"", {"--sheduler.max-threads=2"}})
             == "command line: unknown section [sheduler]; did you mean "
                "[scheduler]?");
  BOOST_TEST(load_error(rotina::options{"", {"--rotina.listen-port"}})
             == "command line: expected '--section.key=value', got "
                "'--rotina.listen-port'");
  BOOST_TEST(load_error(rotina::options{"", {"--node-name=\"abc"}})
             == "command line (--rotina.node-name): syntax error: "
                "unterminated string (missing closing '\"')");
  BOOST_TEST(load_error(rotina::options{
               "", {"--heartbeat-interval=1s", "--heartbeat-timeout=1s"}})
             == "command line: invalid value for 'rotina.heartbeat-timeout': "
                "must be at least 2 x rotina.heartbeat-interval (1s), got 1s");
}

BOOST_AUTO_TEST_SUITE_END()

// -- programs exit non-zero on config errors ----------------------------------

namespace {

struct run_result {
  int status;
  std::string out;
  std::string err;
};

std::string slurp(const std::string& path) {
  std::ifstream in{path};
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

/// Runs the config probe with `args` (a shell-quoted string), optionally
/// under `env`, and captures its exit status, stdout and stderr.
run_result run_probe(const std::string& args, const std::string& env = "") {
  static std::atomic<int> counter{0};
  auto base = (fs::temp_directory_path()
               / ("rotina-probe-" + std::to_string(getpid()) + "-"
                  + std::to_string(counter++)))
                .string();
  auto cmd = env + " '" + std::string{ROTINA_CONFIG_PROBE} + "' " + args + " >'"
             + base + ".out' 2>'" + base + ".err'";
  auto rc = std::system(cmd.c_str());
  run_result result{WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, slurp(base + ".out"),
                    slurp(base + ".err")};
  std::error_code ec;
  fs::remove(base + ".out", ec);
  fs::remove(base + ".err", ec);
  return result;
}

} // namespace

BOOST_AUTO_TEST_SUITE(config_exit_suite)

BOOST_AUTO_TEST_CASE(program_with_bad_config_file_exits_2_with_message) {
  temp_ini file{"[rotina]\nlisten-port = \"abc\"\n"};
  auto res = run_probe("--config-file='" + file.path() + "'");
  BOOST_TEST(res.status == 2);
  BOOST_TEST(res.out == "");
  BOOST_TEST(res.err
             == "rotina: " + file.path()
                  + ":2: invalid value for 'rotina.listen-port': expected an "
                    "integer in 0..65535, got \"abc\"\n");
}

BOOST_AUTO_TEST_CASE(program_with_bad_override_exits_2_with_message) {
  auto res = run_probe("--rotina.listen-prot=4301");
  BOOST_TEST(res.status == 2);
  BOOST_TEST(res.err
             == "rotina: command line: unknown key 'rotina.listen-prot' in "
                "[rotina]; did you mean 'listen-port'?\n");
}

BOOST_AUTO_TEST_CASE(program_reads_ROTINA_CONFIG_when_no_file_is_given) {
  auto res = run_probe("", "ROTINA_CONFIG=/nonexistent/x.ini");
  BOOST_TEST(res.status == 2);
  BOOST_TEST(res.err
             == "rotina: /nonexistent/x.ini: cannot open config file: No such "
                "file or directory\n");
}

BOOST_AUTO_TEST_CASE(program_with_good_config_runs_and_keeps_its_arguments) {
  auto res = run_probe("--config-file=config/cluster-3node/node-b.ini "
                       "--scheduler.max-threads=2 --latency-ms=100 first "
                       "--verbose -- --second");
  BOOST_TEST(res.status == 0);
  BOOST_TEST(res.err == "");
  BOOST_TEST(res.out.find("node-name = node-b\n") != std::string::npos);
  BOOST_TEST(res.out.find("scheduler.max-threads = 2\n") != std::string::npos);
  BOOST_TEST(res.out.find("arg = --latency-ms=100\narg = first\n"
                          "arg = --verbose\narg = --second\n")
             != std::string::npos);
}

BOOST_AUTO_TEST_CASE(program_rejects_near_miss_of_a_rotina_key) {
  auto res = run_probe("--listen-prot=4301");
  BOOST_TEST(res.status == 2);
  BOOST_TEST(res.err
             == "rotina: command line: unknown key 'rotina.listen-prot' in "
                "[rotina]; did you mean 'listen-port'?\n");
}

BOOST_AUTO_TEST_CASE(program_with_fifo_config_exits_2_instead_of_blocking) {
  auto fifo = (fs::temp_directory_path()
               / ("rotina-probe-fifo-" + std::to_string(getpid())))
                .string();
  BOOST_TEST_REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  auto res = run_probe("--config-file='" + fifo + "'", "timeout 30");
  fs::remove(fifo);
  BOOST_TEST(res.status == 2);
  BOOST_TEST(res.err
             == "rotina: " + fifo
                  + ": cannot read config file: not a regular file\n");
  res = run_probe("--config-file=/dev/zero", "timeout 30");
  BOOST_TEST(res.status == 2);
  BOOST_TEST(res.err
             == "rotina: /dev/zero: cannot read config file: not a regular "
                "file\n");
}

BOOST_AUTO_TEST_CASE(section_less_near_misses_of_any_key_are_errors) {
  auto res = run_probe("--max-threads=4");
  BOOST_TEST(res.status == 2);
  BOOST_TEST(res.err
             == "rotina: command line: unknown key 'rotina.max-threads' in "
                "[rotina]; did you mean '--scheduler.max-threads'?\n");
  res = run_probe("--threads=1");
  BOOST_TEST(res.status == 2);
  BOOST_TEST(res.err
             == "rotina: command line: unknown key 'rotina.threads' in "
                "[rotina]; did you mean '--scheduler.max-threads'?\n");
  res = run_probe("-scheduler.max-threads=2");
  BOOST_TEST(res.status == 2);
  BOOST_TEST(res.err
             == "rotina: command line: '-scheduler.max-threads=2' has one "
                "dash; did you mean '--scheduler.max-threads=2'?\n");
  res = run_probe("-max-threds=2");
  BOOST_TEST(res.status == 2);
  // Application flags and arguments still pass, also those that share a name
  // with a key of a section other than [rotina] and [scheduler]
  // (middleman.workers, middleman.network-backend): those keys are always
  // written with their section.
  res = run_probe("--scale=2 -v -n=3 --timeout=1 --workers=4 --backend=x");
  BOOST_TEST(res.status == 0, res.err);
  BOOST_TEST(res.out.find("arg = --scale=2\narg = -v\narg = -n=3\n"
                          "arg = --timeout=1\narg = --workers=4\n"
                          "arg = --backend=x\n")
               != std::string::npos,
             res.out);
}

BOOST_AUTO_TEST_CASE(dump_config_prints_effective_values_and_exits_0) {
  auto res = run_probe("--config-file=config/cluster-3node/node-b.ini "
                       "--scheduler.max-threads=3 --dump-config");
  BOOST_TEST(res.status == 0);
  BOOST_TEST(res.err == "");
  BOOST_TEST(res.out.find("node-name = \"node-b\" ; "
                          "config/cluster-3node/node-b.ini:")
               != std::string::npos,
             res.out);
  BOOST_TEST(res.out.find("max-threads = 3 ; command line\n")
               != std::string::npos,
             res.out);
  // The probe's own output never comes: --dump-config exits first.
  BOOST_TEST(res.out.find("scheduler.max-threads = ") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

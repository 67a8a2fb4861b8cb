// Headless Chromium driven through the DevTools protocol over a pipe (--remote-debugging-pipe:
// the browser reads commands on fd 3 and writes answers on fd 4, each a JSON text ended by a NUL
// byte), for browser tests that must type and click: a login form, a logout button; and print to
// PDF (Page.printToPDF), as a clerk prints a page for the notice board. The page
// runs as it would for a person: its cookies (HttpOnly ones too) are the browser's, its fetch()
// calls are real. No WebSocket and no other program needed; Debian's chromium suffices.
//
// One page per CdpBrowser, driven from the test's thread. Each call waits at most 60 s for its
// answer; events the browser sends meanwhile are skipped.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace hub::test {

class CdpBrowser {
 public:
  // `flags`: more of Chromium's command line (e.g. --ignore-certificate-errors for a test CA).
  CdpBrowser(const std::string& exe, const std::string& profile_dir, const std::vector<std::string>& flags = {}) {
    int to_browser[2], from_browser[2];
    if (::pipe2(to_browser, O_CLOEXEC) != 0 || ::pipe2(from_browser, O_CLOEXEC) != 0)
      throw std::runtime_error("pipe failed");
    std::vector<std::string> args{exe,
                                  "--headless",
                                  "--no-sandbox",
                                  "--disable-gpu",
                                  "--disable-dev-shm-usage",
                                  "--no-first-run",
                                  "--hide-scrollbars",
                                  "--window-size=1280,900",
                                  "--user-data-dir=" + profile_dir,
                                  "--remote-debugging-pipe"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.push_back("about:blank");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(to_browser[0], 3);  // dup2 clears O_CLOEXEC on the copies
      ::dup2(from_browser[1], 4);
      const int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::dup2(null, 2);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(to_browser[0]);
    ::close(from_browser[1]);
    to_ = to_browser[1];
    from_ = from_browser[0];
    const auto targets = call("Target.getTargets", nlohmann::json::object(), false);
    std::string target;
    for (const auto& t : targets["targetInfos"])
      if (t.value("type", "") == "page") target = t["targetId"];
    if (target.empty()) target = call("Target.createTarget", {{"url", "about:blank"}}, false)["targetId"];
    session_ = call("Target.attachToTarget", {{"targetId", target}, {"flatten", true}}, false)["sessionId"];
    call("Page.enable", nlohmann::json::object());
    call("Runtime.enable", nlohmann::json::object());
    call("Emulation.setDeviceMetricsOverride",
         {{"width", 1280}, {"height", 900}, {"deviceScaleFactor", 1}, {"mobile", false}});
  }

  ~CdpBrowser() {
    try {
      send("Browser.close", nlohmann::json::object(), false);
    } catch (...) {
    }
    ::close(to_);
    ::close(from_);
    for (int i = 0; i < 50; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }

  void navigate(const std::string& url) { call("Page.navigate", {{"url", url}}); }

  // The value of a JavaScript expression (a promise is awaited).
  nlohmann::json evaluate(const std::string& expression) {
    const auto r = call("Runtime.evaluate", {{"expression", expression}, {"awaitPromise", true}, {"returnByValue", true}});
    if (r.contains("exceptionDetails")) throw std::runtime_error("script failed: " + r["exceptionDetails"].dump());
    return r["result"].value("value", nlohmann::json());
  }

  // Waits until `expression` is true; false after `limit`.
  bool wait_for(const std::string& expression, std::chrono::seconds limit = std::chrono::seconds(60)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      try {
        if (evaluate("Boolean(" + expression + ")") == true) return true;
      } catch (const std::runtime_error&) {
        // the page is between documents
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  std::string html() { return evaluate("document.documentElement.outerHTML").get<std::string>(); }

  // Every cookie the browser holds, HttpOnly ones included.
  nlohmann::json cookies() { return call("Network.getAllCookies", nlohmann::json::object())["cookies"]; }
  void set_cookie(const nlohmann::json& cookie) { call("Network.setCookie", cookie); }

  void screenshot(const std::string& png) {
    const std::string data = call("Page.captureScreenshot", {{"format", "png"}})["data"];
    std::ofstream(png, std::ios::binary) << base64_decode(data);
  }

  // The page printed to PDF as the browser's print dialog would: print media, the page's own CSS
  // @page size and margins (A4 where it says so), no header or footer lines. The PDF's bytes.
  std::string print_to_pdf() {
    const std::string data = call("Page.printToPDF", {{"preferCSSPageSize", true},
                                                      {"printBackground", true},
                                                      {"displayHeaderFooter", false}})["data"];
    return base64_decode(data);
  }

  // Shows the page as it prints ("print") or as on screen again (""), for checking what a
  // printout would hide.
  void emulate_media(const std::string& media) { call("Emulation.setEmulatedMedia", {{"media", media}}); }

 private:
  int send(const std::string& method, const nlohmann::json& params, bool in_page) {
    nlohmann::json message{{"id", ++next_id_}, {"method", method}, {"params", params}};
    if (in_page) message["sessionId"] = session_;
    const std::string text = message.dump() + std::string(1, '\0');
    for (std::size_t done = 0; done < text.size();) {
      const ssize_t n = ::write(to_, text.data() + done, text.size() - done);
      if (n <= 0) throw std::runtime_error("the browser has gone");
      done += static_cast<std::size_t>(n);
    }
    return next_id_;
  }

  nlohmann::json call(const std::string& method, const nlohmann::json& params, bool in_page = true) {
    const int id = send(method, params, in_page);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (;;) {
      for (std::size_t end; (end = buffer_.find('\0')) != std::string::npos;) {
        const auto message = nlohmann::json::parse(buffer_.substr(0, end), nullptr, false);
        buffer_.erase(0, end + 1);
        if (message.is_object() && message.value("id", 0) == id) {
          if (message.contains("error")) throw std::runtime_error(method + ": " + message["error"].dump());
          return message.value("result", nlohmann::json::object());
        }
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) throw std::runtime_error(method + ": no answer from the browser in 60 s");
      pollfd p{from_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[65536];
      const ssize_t n = ::read(from_, chunk, sizeof chunk);
      if (n <= 0) throw std::runtime_error(method + ": the browser has gone");
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  static std::string base64_decode(const std::string& in) {
    std::string out;
    int value = 0, bits = -8;
    for (const unsigned char c : in) {
      int d;
      if (c >= 'A' && c <= 'Z') d = c - 'A';
      else if (c >= 'a' && c <= 'z') d = c - 'a' + 26;
      else if (c >= '0' && c <= '9') d = c - '0' + 52;
      else if (c == '+') d = 62;
      else if (c == '/') d = 63;
      else continue;
      value = (value << 6) + d;
      bits += 6;
      if (bits >= 0) {
        out.push_back(static_cast<char>((value >> bits) & 0xFF));
        bits -= 8;
      }
    }
    return out;
  }

  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
  int next_id_ = 0;
  std::string buffer_;
  std::string session_;
};

}  // namespace hub::test

#pragma once
// The attacks of issue 9 §1, each as a loop that runs on a few threads of its own
// against a real attendance-backend until told to stop. They use the attack tests'
// RawSocket (tests/support/raw_socket.hpp) and send what those tests send,
// only over and over, from many loopback addresses when the attack would
// otherwise be stopped by a per-address limit before it reaches what it attacks.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace attendance::bench {

struct AttackTarget {
  std::uint16_t port = 0;       // the backend
  std::uint16_t adminPort = 0;  // attendance-admin serve (the sign-in burst at the console)
  std::string eventId;
  std::string stolenKey;    // a valid scanner key, assigned to the event
  std::string victimEmail;  // a participant whose password is guessed
};

// What the attackers sent and what they were answered (every thread of an attack).
class AttackTally {
public:
  void sent(std::size_t bytes) { bytes_ += static_cast<long long>(bytes); }
  // `status` 0: closed or reset without an answer; -1: could not connect.
  void answer(int status) {
    std::lock_guard lock{m_};
    ++answers_[status];
  }
  [[nodiscard]] std::map<int, long> answers() const {
    std::lock_guard lock{m_};
    return answers_;
  }
  [[nodiscard]] long long bytes() const { return bytes_.load(); }
  void reset() {
    std::lock_guard lock{m_};
    answers_.clear();
    bytes_ = 0;
  }

private:
  mutable std::mutex m_;
  std::map<int, long> answers_;
  std::atomic<long long> bytes_{0};
};

struct Attack {
  std::string name;         // for --only
  std::string description;  // what the table says
  int threads = 1;
  // One attacker thread: loops until `stop`.
  std::function<void(const AttackTarget&, int thread, const std::atomic<bool>& stop, AttackTally&)> run;
};

// In the order of docs/reliability.md's section 1, then the one attack of that
// kind aimed at the admin console instead (its sign-in has no hashing pool of its own).
std::vector<Attack> sectionOneAttacks();

}  // namespace attendance::bench

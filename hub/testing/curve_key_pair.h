// CurveKeyPair: a fresh CURVE key pair (Z85) for tests that run CURVE sockets in one process.
#pragma once

#include <string>

#include <zmq.h>

namespace hub::testing {

struct CurveKeyPair {
  std::string public_key, secret_key;
  CurveKeyPair() {
    char p[41], s[41];
    zmq_curve_keypair(p, s);
    public_key = p;
    secret_key = s;
  }
};

}  // namespace hub::testing

#pragma once
// vaelib's exception types. Every message names the operation, the operands (with their
// shapes where there are any) and what was expected, so that a user can act on it.

#include <stdexcept>
#include <string>

namespace vaelib {

/// Base class of every exception vaelib throws.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

/// An operand has the wrong shape or rank for the operation.
class ShapeError : public Error {
 public:
  using Error::Error;
};

/// The tape was used wrongly: a handle from a cleared tape, handles of two tapes mixed,
/// backward on a non-scalar root, ...
class TapeError : public Error {
 public:
  using Error::Error;
};

/// An argument that is not a tensor is out of its domain (an axis, a size, an option).
class ArgumentError : public Error {
 public:
  using Error::Error;
};

/// A parameter's value outside its domain: a distribution given a negative scale, a
/// probability above one, an infinite rate. An ArgumentError; an MCMC sampler catches this
/// kind alone, where a trajectory wanders out of the model's domain, and rejects the point.
class DomainError : public ArgumentError {
 public:
  using ArgumentError::ArgumentError;
};

/// A NaN or an infinity where none may be: in a forward value or a gradient while anomaly
/// detection is on (Tape::detect_anomaly; the message names the op and node where it first
/// appeared), or in parameters about to be checkpointed (io::save_checkpoint).
class NumericalError : public Error {
 public:
  using Error::Error;
};

}  // namespace vaelib

#pragma once
/// @file
/// ovz::result<T>: the return type of every fallible call of the public API.

#include <ovz/error.hpp>

#include <boost/outcome/result.hpp>
#include <boost/outcome/try.hpp>

#include <type_traits>

namespace ovz::inline v0 {

namespace outcome = BOOST_OUTCOME_V2_NAMESPACE;

/// A value or an ovz::error (Boost.Outcome). Reading the value of a failed result terminates
/// the process rather than throwing: no exception leaves the library, so test the result
/// (`if (!r) … r.error().message()`) or propagate it with BOOST_OUTCOME_TRY(var, expr).
template <class T>
class result : public outcome::result<T, error, outcome::policy::terminate> {
  using base = outcome::result<T, error, outcome::policy::terminate>;

 public:
  using base::base;

  /// The value; the result must hold one.
  template <class U = T>
    requires(!std::is_void_v<U>)
  U& operator*() & { return this->value(); }
  template <class U = T>
    requires(!std::is_void_v<U>)
  const U& operator*() const& { return this->value(); }
  template <class U = T>
    requires(!std::is_void_v<U>)
  U&& operator*() && { return std::move(this->value()); }
  template <class U = T>
    requires(!std::is_void_v<U>)
  U* operator->() { return &this->value(); }
  template <class U = T>
    requires(!std::is_void_v<U>)
  const U* operator->() const { return &this->value(); }
};

/// The success value of a result<void>.
inline auto success() noexcept { return outcome::success(); }

}  // namespace ovz::inline v0

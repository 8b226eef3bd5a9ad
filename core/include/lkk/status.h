// Errors are values, not exceptions thrown across layers (the LevelDB habit).
// Every backend converts its own exceptions/error codes into a Status at its boundary,
// so nothing above storage ever needs a try/catch for control flow.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace lkk {

enum class StatusCode {
    ok,
    invalid_argument,  // bad input; the caller answers 4xx
    not_found,
    conflict,     // unique constraint, already exists, state changed underneath
    unavailable,  // database/Redis/SMTP down or timed out: 503, retry later
    internal,     // a bug or an unexpected backend answer
};

class Status {
public:
    Status() = default;
    Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

    static Status Ok() { return {}; }
    static Status Invalid(std::string m) { return {StatusCode::invalid_argument, std::move(m)}; }
    static Status NotFound(std::string m) { return {StatusCode::not_found, std::move(m)}; }
    static Status Conflict(std::string m) { return {StatusCode::conflict, std::move(m)}; }
    static Status Unavailable(std::string m) { return {StatusCode::unavailable, std::move(m)}; }
    static Status Internal(std::string m) { return {StatusCode::internal, std::move(m)}; }

    bool ok() const { return code_ == StatusCode::ok; }
    StatusCode code() const { return code_; }
    const std::string& message() const { return message_; }

private:
    StatusCode code_ = StatusCode::ok;
    std::string message_;
};

// A value or an error. E defaults to Status; rules use their own typed error enums.
template <class T, class E = Status>
class Result {
public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT implicit
    Result(E error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT implicit

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    const E& error() const { return std::get<1>(v_); }
    T* operator->() { return &std::get<0>(v_); }
    const T* operator->() const { return &std::get<0>(v_); }
    T& operator*() & { return std::get<0>(v_); }
    const T& operator*() const& { return std::get<0>(v_); }

private:
    std::variant<T, E> v_;
};

}  // namespace lkk

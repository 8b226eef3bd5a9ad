// Sessions and throttle counters in Redis (hiredis), for several nginx hosts behind a
// balancer: a session made on one host works on the others.
//
// url: "redis://[:password@]host:port/db", or behind Redis Sentinel
// "redis-sentinel://[:password@]s1:26379,s2:26379/master-name/db": the sentinels are asked
// for the master, and again after it failed or was demoted. One connection per thread, opened
// lazily with a connect and a command timeout, dropped after any error and reopened on the next
// call, so a Redis restart costs the requests made during the outage (answered unavailable -> 503)
// and nothing else.
#pragma once

#include <memory>
#include <string>

#include "lkk/session_store.h"

namespace lkk {

Result<std::unique_ptr<SessionStore>> open_redis_session_store(const std::string& url);
Result<std::unique_ptr<CounterStore>> open_redis_counter_store(const std::string& url);

}  // namespace lkk

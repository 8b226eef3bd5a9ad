-- wrk script of bench/http/whole.py: a successful login (POST /lkk/login with the anonymous
-- CSRF cookie and token that whole.py read from the start page).
--   LKK_BENCH_BODY    the form: email=...&password=...&csrf=...
--   LKK_BENCH_COOKIE  lkk_csrf=...
wrk.method = "POST"
wrk.body = os.getenv("LKK_BENCH_BODY")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = os.getenv("LKK_BENCH_COOKIE")

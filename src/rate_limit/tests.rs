use super::*;
use crate::auth::Credential;

const SECOND_US: u64 = 1_000_000;

fn take(limit: u64, cost: u64) -> Command {
    Command::Take { limit_per_minute: limit, cost }
}

/// Runs `take(limit, 1)` at `now` against `tat`, returning the new TAT and whether it passed.
fn step(tat: &mut u64, now: u64, limit: u64) -> Verdict {
    let (new_tat, verdict) = apply(*tat, now, take(limit, 1));
    *tat = new_tat;
    verdict
}

#[test]
fn a_burst_of_exactly_the_limit_passes_then_the_next_waits_one_interval() {
    for limit in [1, 5, 7, 60, 7_745, 99_999, HARD_MAX_PER_MINUTE] {
        let now = 1_000 * SECOND_US;
        let mut tat = 0;
        for i in 0..limit {
            assert!(step(&mut tat, now, limit).allowed, "limit {limit}: request {i} of the burst");
        }
        let refused = step(&mut tat, now, limit);
        assert!(!refused.allowed, "limit {limit}: one more than the limit");
        let interval_ms = (MINUTE_US / limit).div_ceil(1000);
        assert_eq!(refused.retry_after_ms, interval_ms, "limit {limit}");
    }
}

#[test]
fn a_refused_request_costs_nothing_and_the_retry_after_is_exact() {
    let limit = 60; // one a second
    let start = 50 * SECOND_US;
    let mut tat = 0;
    for _ in 0..60 {
        assert!(step(&mut tat, start, limit).allowed);
    }
    let tat_full = tat;
    // Hammering while refused moves nothing.
    for _ in 0..100 {
        assert!(!step(&mut tat, start + SECOND_US / 2, limit).allowed);
    }
    assert_eq!(tat, tat_full);
    let refused = step(&mut tat, start + SECOND_US / 4, limit);
    assert_eq!(refused.retry_after_ms, 750);
    // Exactly when told: let through; a microsecond earlier: not.
    assert!(!step(&mut tat, start + SECOND_US - 1, limit).allowed);
    assert!(step(&mut tat, start + SECOND_US, limit).allowed);
    assert!(!step(&mut tat, start + SECOND_US, limit).allowed);
}

#[test]
fn a_steady_rate_at_the_limit_always_passes_and_above_it_is_capped() {
    let limit = 120; // every 0.5 s
    let mut tat = 0;
    let mut now = 10 * SECOND_US;
    for _ in 0..1_000 {
        assert!(step(&mut tat, now, limit).allowed);
        now += SECOND_US / 2;
    }
    // Twice the rate for 10 minutes: the burst plus one per interval passes, no more.
    let mut tat = 0;
    let start = now;
    let mut passed = 0;
    for i in 0..(2 * 120 * 10) {
        if step(&mut tat, start + i * SECOND_US / 4, limit).allowed {
            passed += 1;
        }
    }
    let elapsed = (2 * 120 * 10 - 1) * SECOND_US / 4;
    let most = limit + elapsed / (MINUTE_US / limit);
    assert!(passed <= most && passed >= most - 1, "passed {passed}, most {most}");
}

#[test]
fn an_idle_bucket_refills_but_never_beyond_the_limit() {
    let limit = 5;
    let mut tat = 0;
    let now = 100 * SECOND_US;
    for _ in 0..5 {
        assert!(step(&mut tat, now, limit).allowed);
    }
    // An hour idle: still only 5 at once.
    let later = now + 3600 * SECOND_US;
    for _ in 0..5 {
        assert!(step(&mut tat, later, limit).allowed);
    }
    assert!(!step(&mut tat, later, limit).allowed);
}

#[test]
fn a_refund_gives_back_exactly_what_was_taken() {
    let limit = 10;
    let now = 7 * SECOND_US;
    let mut tat = 0;
    for _ in 0..10 {
        assert!(step(&mut tat, now, limit).allowed);
    }
    assert!(!step(&mut tat, now, limit).allowed);
    let (refunded, verdict) = apply(tat, now, Command::Refund { limit_per_minute: limit, cost: 1 });
    assert!(verdict.allowed);
    tat = refunded;
    assert!(step(&mut tat, now, limit).allowed, "the refunded request is available again");
    assert!(!step(&mut tat, now, limit).allowed, "and only that one");
    // A refund never makes a bucket fuller than idle.
    let (idle, _) = apply(0, now, Command::Refund { limit_per_minute: limit, cost: 5 });
    assert_eq!(idle, now);
    let mut tat = idle;
    for _ in 0..10 {
        assert!(step(&mut tat, now, limit).allowed);
    }
    assert!(!step(&mut tat, now, limit).allowed);
}

#[test]
fn a_batch_costs_its_size_but_never_more_than_the_limit() {
    let now = SECOND_US;
    let (tat, verdict) = apply(0, now, take(10, 4));
    assert!(verdict.allowed);
    let (tat, verdict) = apply(tat, now, take(10, 7));
    assert!(!verdict.allowed, "4 + 7 > 10");
    let (tat, verdict) = apply(tat, now, take(10, 6));
    assert!(verdict.allowed, "4 + 6 = 10");
    // A batch larger than the limit costs the whole limit: it passes an idle bucket only.
    let (_, verdict) = apply(0, now, take(3, 50));
    assert!(verdict.allowed);
    let (_, verdict) = apply(tat, now, take(3, 50));
    assert!(!verdict.allowed);
}

#[test]
fn the_commands_and_verdicts_round_trip_and_junk_is_refused() {
    for command in [take(60, 1), Command::Refund { limit_per_minute: 5, cost: 2 }] {
        assert_eq!(Command::from_query(&command.to_query()), Ok(command));
    }
    assert_eq!(take(60, 1).to_query(), "op=take&limit=60&cost=1");
    for junk in ["", "op=take", "op=steal&limit=1&cost=1", "op=take&limit=-1&cost=1", "op=take&limit=1&cost=1&x=2"] {
        assert!(Command::from_query(junk).is_err(), "{junk:?}");
    }
    for verdict in [Verdict { allowed: true, retry_after_ms: 0 }, Verdict { allowed: false, retry_after_ms: 2_500 }] {
        assert_eq!(Verdict::from_text(&verdict.to_text()), Ok(verdict));
    }
    assert_eq!(Verdict { allowed: false, retry_after_ms: 2_500 }.to_text(), "0 2500");
    for junk in ["", "1", "2 0", "0 x", "<html>"] {
        assert!(Verdict::from_text(junk).is_err(), "{junk:?}");
    }
}

fn limits(key: Option<u64>, client: Option<u64>, user: Option<u64>) -> RateLimits {
    RateLimits { api_key_per_minute: key, oauth_client_per_minute: client, user_per_minute: user }
}

fn api_key(id: &str, own: Option<u64>) -> Credential {
    Credential::ApiKey { id: id.into(), rate_limit_per_minute: own }
}

fn oauth(client: &str, user: &str) -> Credential {
    Credential::OAuth { client_id: client.into(), user: user.into() }
}

#[test]
fn buckets_follow_the_credential_and_a_key_override_beats_the_service() {
    let none = RateLimits::default();
    assert!(buckets("demo", &none, &api_key("k1", None)).is_empty());
    assert!(buckets("demo", &none, &oauth("c", "alice")).is_empty());
    assert!(buckets("demo", &limits(Some(1), Some(1), Some(1)), &Credential::Anonymous).is_empty());
    // Only the kinds the service limits.
    assert!(buckets("demo", &limits(None, Some(5), None), &api_key("k1", None)).is_empty());
    assert!(buckets("demo", &limits(Some(5), None, None), &oauth("c", "alice")).is_empty());

    let key = buckets("demo", &limits(Some(60), None, None), &api_key("k1", None));
    assert_eq!(key, vec![Bucket { name: "demo:key:k1".into(), scope: Scope::ApiKey, limit_per_minute: 60 }]);
    let own = buckets("demo", &limits(Some(60), None, None), &api_key("k1", Some(5)));
    assert_eq!(own[0].limit_per_minute, 5, "the key's own limit wins");
    let own_only = buckets("demo", &none, &api_key("k1", Some(500)));
    assert_eq!(own_only[0].limit_per_minute, 500, "a key's limit applies without a service default");

    let both = buckets("shop", &limits(None, Some(600), Some(30)), &oauth("https://app.example/cimd.json", "bob"));
    assert_eq!(
        both,
        vec![
            Bucket { name: "shop:user:bob".into(), scope: Scope::User, limit_per_minute: 30 },
            Bucket {
                name: "shop:client:https://app.example/cimd.json".into(),
                scope: Scope::OauthClient,
                limit_per_minute: 600
            },
        ]
    );
}

fn run<T>(f: impl std::future::Future<Output = T>) -> T {
    futures_executor::block_on(f)
}

#[test]
fn a_request_refused_by_its_client_is_given_back_to_its_user() {
    let limiter = MemoryLimiter::default();
    limiter.now_us.set(1_000 * SECOND_US);
    let both = buckets("demo", &limits(None, Some(2), Some(5)), &oauth("c1", "alice"));
    assert_eq!(run(check(&limiter, &both, 1)), None);
    assert_eq!(run(check(&limiter, &both, 1)), None);
    // The client is out; alice's bucket must not pay for the refused calls.
    for _ in 0..10 {
        let refusal = run(check(&limiter, &both, 1)).unwrap();
        assert_eq!(refusal.scope, Scope::OauthClient);
        assert_eq!(refusal.limit_per_minute, 2);
        assert_eq!(refusal.retry_after_ms, 30_000);
    }
    // Through another client alice still has exactly 3 left of her 5.
    let other = buckets("demo", &limits(None, Some(100), Some(5)), &oauth("c2", "alice"));
    for _ in 0..3 {
        assert_eq!(run(check(&limiter, &other, 1)), None);
    }
    let refusal = run(check(&limiter, &other, 1)).unwrap();
    assert_eq!(refusal.scope, Scope::User);
    assert_eq!(refusal.retry_after_ms, 12_000);
}

#[test]
fn a_user_refusal_does_not_touch_the_client() {
    let limiter = MemoryLimiter::default();
    let alice = buckets("demo", &limits(None, Some(2), Some(1)), &oauth("c1", "alice"));
    let bob = buckets("demo", &limits(None, Some(2), Some(1)), &oauth("c1", "bob"));
    assert_eq!(run(check(&limiter, &alice, 1)), None);
    let calls = limiter.calls.get();
    assert_eq!(run(check(&limiter, &alice, 1)).unwrap().scope, Scope::User);
    assert_eq!(limiter.calls.get(), calls + 1, "the client bucket is not asked");
    // The client still has 1 of 2 left: bob gets through, then carol is refused by the client.
    assert_eq!(run(check(&limiter, &bob, 1)), None);
    let carol = buckets("demo", &limits(None, Some(2), Some(1)), &oauth("c1", "carol"));
    assert_eq!(run(check(&limiter, &carol, 1)).unwrap().scope, Scope::OauthClient);
}

#[test]
fn an_unreachable_limiter_fails_open_and_says_so() {
    let limiter = MemoryLimiter::default();
    limiter.unreachable.borrow_mut().push("demo:key:k1".into());
    let key = buckets("demo", &limits(Some(1), None, None), &api_key("k1", None));
    for _ in 0..3 {
        assert_eq!(run(check(&limiter, &key, 1)), None, "served although the limit is 1");
    }
    let lines = limiter.lines.borrow();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["event"], "rate_limiter_unavailable");
    assert_eq!(lines[0]["bucket"], "demo:key:k1");
    assert_eq!(lines[0]["scope"], "api_key");
    assert_eq!(lines[0]["outcome"], "served_unlimited");
    assert!(lines[0]["error"].as_str().unwrap().contains("RATE_LIMITER"));
}

#[test]
fn the_refusal_tells_a_model_what_to_do() {
    let refusal = Refusal { scope: Scope::ApiKey, limit_per_minute: 60, retry_after_ms: 2_001 };
    assert_eq!(refusal.retry_after_seconds(), 3, "rounded up");
    let error = refusal.rpc_error();
    assert_eq!(error.code, -32000);
    assert_eq!(error.message, "rate limit exceeded: 60 requests per minute for this API key; retry after 3 s");
    assert_eq!(error.data, Some(json!({ "retry_after_seconds": 3, "limit_per_minute": 60, "scope": "api_key" })));
    let soon = Refusal { scope: Scope::User, limit_per_minute: 100_000, retry_after_ms: 1 };
    assert_eq!(soon.retry_after_seconds(), 1);
    assert!(soon.rpc_error().message.contains("for this user; retry after 1 s"));
    let client = Refusal { scope: Scope::OauthClient, limit_per_minute: 5, retry_after_ms: 0 };
    assert_eq!(client.retry_after_seconds(), 1, "never 0: a client retrying at once would be refused again");
    assert_eq!(client.rpc_error().data.unwrap()["scope"], "oauth_client");
}

#[test]
fn per_minute_accepts_only_whole_numbers_in_range() {
    assert_eq!(per_minute(&json!(1)), Ok(1));
    assert_eq!(per_minute(&json!(HARD_MAX_PER_MINUTE)), Ok(HARD_MAX_PER_MINUTE));
    for bad in [json!(0), json!(-1), json!(100_001), json!(2.5), json!("10"), json!(null), json!(true)] {
        assert!(per_minute(&bad).is_err(), "{bad}");
    }
}

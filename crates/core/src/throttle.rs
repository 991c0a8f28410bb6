//! Login limits as arithmetic: exponential back-off per key (a client address, a username).
//!
//! Every attempt is counted as a failure when it starts (so that attempts made at once cannot
//! slip past the count); the first `free` failures in a row cost nothing, after which the next
//! attempt must wait `base`, then twice that, and so on up to `cap`. A right password takes
//! back its own count. A key with no failure for `forget` starts again from nothing. The wait is
//! short at first and never longer than `cap`, so the rightful owner of an account under attack
//! is kept out for minutes at most — while a guesser gets a few tries an hour.
//!
//! Times are milliseconds; `now` is a parameter.

/// How one kind of key backs off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// Failures in a row that cost no wait.
    pub free: u32,
    /// The first wait, in milliseconds.
    pub base_ms: i64,
    /// The longest wait, in milliseconds.
    pub cap_ms: i64,
    /// After this long without a failure, the count starts again.
    pub forget_ms: i64,
}

/// Per username: five tries, then 1 s, 2 s, 4 s … at most 5 minutes.
pub const PER_USERNAME: Backoff = Backoff { free: 5, base_ms: 1_000, cap_ms: 5 * 60_000, forget_ms: 60 * 60_000 };

/// Per client address: twenty tries (an office behind one address mistypes too), then 1 s,
/// 2 s, 4 s … at most 15 minutes.
pub const PER_ADDRESS: Backoff = Backoff { free: 20, base_ms: 1_000, cap_ms: 15 * 60_000, forget_ms: 60 * 60_000 };

/// The state of one key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Throttle {
    /// Failures in a row (attempts counted and not taken back by a right password).
    pub failures: u32,
    pub last_failure_at: i64,
    /// No attempt is let through before this moment.
    pub blocked_until: i64,
}

impl Backoff {
    /// The wait before the next attempt after `failures` failures in a row.
    pub fn delay_ms(&self, failures: u32) -> i64 {
        if failures < self.free {
            return 0;
        }
        let doublings = (failures - self.free).min(40);
        self.base_ms.saturating_mul(1i64 << doublings).min(self.cap_ms)
    }

    /// How long an attempt at `now` must still wait, if it must.
    pub fn wait_ms(&self, throttle: &Throttle, now: i64) -> Option<i64> {
        (throttle.blocked_until > now).then(|| throttle.blocked_until - now)
    }

    /// The key after one more attempt at `now`, counted as a failure until it proves right.
    pub fn after_attempt(&self, throttle: Option<&Throttle>, now: i64) -> Throttle {
        let failures = match throttle {
            Some(t) if now - t.last_failure_at < self.forget_ms => t.failures.saturating_add(1),
            _ => 1,
        };
        Throttle { failures, last_failure_at: now, blocked_until: now.saturating_add(self.delay_ms(failures)) }
    }

    /// The key once the attempt [`Backoff::after_attempt`] counted proved right: its failure is
    /// taken back, and so is the wait it caused.
    pub fn after_success(&self, throttle: &Throttle, now: i64) -> Throttle {
        let failures = throttle.failures.saturating_sub(1);
        let blocked_until = if self.delay_ms(failures) == 0 { throttle.blocked_until.min(now) } else { throttle.blocked_until };
        Throttle { failures, last_failure_at: throttle.last_failure_at, blocked_until }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000;

    /// The waits after each of `attempts` attempts made back to back, each at the moment it
    /// is let through.
    fn waits(backoff: &Backoff, attempts: u32) -> Vec<i64> {
        let (mut now, mut throttle) = (0, None);
        let mut out = Vec::new();
        for _ in 0..attempts {
            if let Some(t) = &throttle {
                now += backoff.wait_ms(t, now).unwrap_or(0);
            }
            let next = backoff.after_attempt(throttle.as_ref(), now);
            out.push(next.blocked_until - now);
            throttle = Some(next);
        }
        out
    }

    #[test]
    fn five_tries_of_a_username_are_free_then_the_wait_doubles_up_to_five_minutes() {
        let waits = waits(&PER_USERNAME, 16);
        assert_eq!(&waits[..4], &[0, 0, 0, 0]);
        assert_eq!(&waits[4..10], &[S, 2 * S, 4 * S, 8 * S, 16 * S, 32 * S]);
        assert_eq!(waits[15], 5 * 60 * S, "capped");
        assert!(waits.iter().all(|w| *w <= 5 * 60 * S));
    }

    #[test]
    fn an_address_gets_twenty_tries_and_waits_at_most_fifteen_minutes() {
        let waits = waits(&PER_ADDRESS, 40);
        assert!(waits[..19].iter().all(|w| *w == 0));
        assert_eq!(waits[19], S);
        assert_eq!(waits[39], 15 * 60 * S);
    }

    #[test]
    fn an_attempt_inside_the_wait_is_told_how_long_is_left() {
        let mut t = Throttle::default();
        for i in 0..5 {
            t = PER_USERNAME.after_attempt(Some(&t), i);
        }
        assert_eq!(PER_USERNAME.wait_ms(&t, 4), Some(S));
        assert_eq!(PER_USERNAME.wait_ms(&t, 4 + S), None);
    }

    #[test]
    fn a_right_password_takes_back_its_count_and_its_wait() {
        let mut t = None;
        for i in 0..4 {
            t = Some(PER_USERNAME.after_attempt(t.as_ref(), i));
        }
        let counted = PER_USERNAME.after_attempt(t.as_ref(), 10);
        assert_eq!((counted.failures, counted.blocked_until), (5, 10 + S));
        let back = PER_USERNAME.after_success(&counted, 10);
        assert_eq!((back.failures, back.blocked_until), (4, 10), "the wait this attempt caused is gone");
    }

    #[test]
    fn an_hour_without_failures_starts_the_count_again() {
        let mut t = None;
        for i in 0..30 {
            t = Some(PER_USERNAME.after_attempt(t.as_ref(), i * 600 * S));
        }
        let later = PER_USERNAME.after_attempt(t.as_ref(), 30 * 600 * S + 3_600 * S);
        assert_eq!((later.failures, later.blocked_until - later.last_failure_at), (1, 0));
    }
}

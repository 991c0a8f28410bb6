//! The plan's tests: the rules one by one, the reference case, and random plans against brute force.

use super::*;
use chrono::TimeDelta;
use proptest::prelude::*;

fn t(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

fn hours_after(start: DateTime<Utc>, hours: f64) -> DateTime<Utc> {
    start + TimeDelta::milliseconds(hours_to_ms(hours))
}

const START: &str = "2020-02-01T08:00:00+08:00";

fn plan(milestones: Vec<Milestone>) -> Plan {
    Plan { start: t(START), milestones }
}

/// The keys of the critical path.
fn critical(plan: &Plan, schedule: &Schedule) -> Vec<String> {
    schedule.critical_path().iter().map(|&i| plan.milestones[i].key.clone()).collect()
}

/// (es, ef, ls, lf, slack) in hours from the plan's start, for the milestone `key`.
fn hours(plan: &Plan, schedule: &Schedule, key: &str) -> (f64, f64, f64, f64, f64) {
    let i = plan.milestones.iter().position(|m| m.key == key).unwrap();
    let times = schedule.times(i);
    let h = |d: DateTime<Utc>| (d - plan.start).num_milliseconds() as f64 / MS_PER_HOUR;
    (h(times.es), h(times.ef), h(times.ls), h(times.lf), times.slack_h)
}

fn blocker(need: i64, milestone: &str, resolves_at: DateTime<Utc>) -> Blocker {
    Blocker { need: NeedId(need), milestone: milestone.to_string(), resolves_at }
}

#[test]
fn a_chain_finishes_after_the_sum_of_its_durations_and_is_all_critical() {
    let p = plan(vec![
        Milestone::new("a", "A", 10.0),
        Milestone::new("b", "B", 5.5).after(["a"]),
        Milestone::new("c", "C", 0.5).after(["b"]),
    ]);
    let s = schedule(&p, &[]).unwrap();
    assert_eq!(s.finish(), hours_after(p.start, 16.0));
    assert_eq!(s.span_h(), 16.0);
    assert_eq!(critical(&p, &s), ["a", "b", "c"]);
    assert_eq!(hours(&p, &s, "b"), (10.0, 15.5, 10.0, 15.5, 0.0));
}

#[test]
fn the_shorter_of_two_parallel_branches_has_the_difference_as_slack() {
    // start → (long 10 h | short 4 h → shorter 2 h) → end 1 h
    let p = plan(vec![
        Milestone::new("start", "Start", 0.0),
        Milestone::new("long", "Long", 10.0).after(["start"]),
        Milestone::new("short", "Short", 4.0).after(["start"]),
        Milestone::new("shorter", "Shorter", 2.0).after(["short"]),
        Milestone::new("end", "End", 1.0).after(["long", "shorter"]),
    ]);
    let s = schedule(&p, &[]).unwrap();
    assert_eq!(s.finish(), hours_after(p.start, 11.0));
    assert_eq!(critical(&p, &s), ["start", "long", "end"]);
    assert_eq!(hours(&p, &s, "short"), (0.0, 4.0, 4.0, 8.0, 4.0));
    assert_eq!(hours(&p, &s, "shorter"), (4.0, 6.0, 8.0, 10.0, 4.0));
    assert_eq!(hours(&p, &s, "end"), (10.0, 11.0, 10.0, 11.0, 0.0));
}

#[test]
fn a_textbook_network_gets_the_textbook_times() {
    // A 3, B 4, C 2 after A, D 5 after A, E 4 after B and C, F 3 after D and E.
    let p = plan(vec![
        Milestone::new("A", "", 3.0),
        Milestone::new("B", "", 4.0),
        Milestone::new("C", "", 2.0).after(["A"]),
        Milestone::new("D", "", 5.0).after(["A"]),
        Milestone::new("E", "", 4.0).after(["B", "C"]),
        Milestone::new("F", "", 3.0).after(["D", "E"]),
    ]);
    let s = schedule(&p, &[]).unwrap();
    assert_eq!(s.span_h(), 12.0);
    assert_eq!(hours(&p, &s, "A"), (0.0, 3.0, 0.0, 3.0, 0.0));
    assert_eq!(hours(&p, &s, "B"), (0.0, 4.0, 1.0, 5.0, 1.0));
    assert_eq!(hours(&p, &s, "C"), (3.0, 5.0, 3.0, 5.0, 0.0));
    assert_eq!(hours(&p, &s, "D"), (3.0, 8.0, 4.0, 9.0, 1.0));
    assert_eq!(hours(&p, &s, "E"), (5.0, 9.0, 5.0, 9.0, 0.0));
    assert_eq!(hours(&p, &s, "F"), (9.0, 12.0, 9.0, 12.0, 0.0));
    assert_eq!(critical(&p, &s), ["A", "C", "E", "F"]);
}

#[test]
fn results_do_not_depend_on_the_order_milestones_are_listed_in() {
    let forward = plan(vec![
        Milestone::new("x", "", 1.0),
        Milestone::new("y", "", 0.0).after(["x"]),
        Milestone::new("z", "", 0.0).after(["x"]),
    ]);
    let mut reversed = forward.clone();
    reversed.milestones.reverse();
    for p in [&forward, &reversed] {
        let s = schedule(p, &[]).unwrap();
        assert_eq!(critical(p, &s), ["x", "y", "z"]);
        let order: Vec<&str> = s.topological_order().iter().map(|&i| p.milestones[i].key.as_str()).collect();
        assert_eq!(order, ["x", "y", "z"]);
    }
}

#[test]
fn zero_duration_milestones_keep_topological_order_not_key_order() {
    let p = plan(vec![Milestone::new("b", "", 0.0), Milestone::new("a", "", 0.0).after(["b"])]);
    let s = schedule(&p, &[]).unwrap();
    assert_eq!(critical(&p, &s), ["b", "a"]);
}

#[test]
fn an_empty_plan_finishes_at_its_start() {
    let p = plan(Vec::new());
    let s = schedule(&p, &[]).unwrap();
    assert_eq!(s.finish(), p.start);
    assert!(s.is_empty());
    assert!(s.critical_path().is_empty());
}

#[test]
fn not_before_delays_a_milestone_and_everything_after_it() {
    let p = plan(vec![
        Milestone::new("order", "", 2.0),
        Milestone::new("deliver", "", 1.0).after(["order"]).not_before(hours_after(t(START), 24.0)),
        Milestone::new("install", "", 3.0).after(["deliver"]),
        Milestone::new("paperwork", "", 5.0),
    ]);
    let s = schedule(&p, &[]).unwrap();
    assert_eq!(hours(&p, &s, "deliver"), (24.0, 25.0, 24.0, 25.0, 0.0));
    assert_eq!(s.span_h(), 28.0);
    // order could finish any time before the delivery date: it has 22 h of slack.
    assert_eq!(hours(&p, &s, "order"), (0.0, 2.0, 22.0, 24.0, 22.0));
    assert_eq!(critical(&p, &s), ["deliver", "install"]);
}

#[test]
fn not_before_earlier_than_the_plan_start_changes_nothing() {
    let p = plan(vec![Milestone::new("a", "", 1.0).not_before(t("2020-01-01T00:00:00Z"))]);
    let s = schedule(&p, &[]).unwrap();
    assert_eq!(s.times(0).es, p.start);
}

#[test]
fn a_cycle_is_refused_naming_its_milestones_in_cycle_order() {
    let p = plan(vec![
        Milestone::new("c", "", 1.0).after(["b"]),
        Milestone::new("a", "", 1.0).after(["c"]),
        Milestone::new("b", "", 1.0).after(["a"]),
        Milestone::new("0-tail", "", 1.0).after(["a"]),
        Milestone::new("free", "", 1.0),
    ]);
    let error = schedule(&p, &[]).unwrap_err();
    assert_eq!(error, PlanError::Cycle { milestones: vec!["a".into(), "b".into(), "c".into()] });
    assert_eq!(
        error.to_string(),
        r#"the plan has a cycle: "a" → "b" → "c" → "a" (each is after the one before it) — remove one of these dependencies"#
    );
}

#[test]
fn a_milestone_after_itself_is_a_cycle_of_one() {
    let p = plan(vec![Milestone::new("a", "", 1.0).after(["a"])]);
    assert_eq!(schedule(&p, &[]).unwrap_err(), PlanError::Cycle { milestones: vec!["a".into()] });
}

#[test]
fn an_unknown_dependency_is_refused_with_the_nearest_key_suggested() {
    let p = plan(vec![
        Milestone::new("commissioning", "", 1.0),
        Milestone::new("trial", "", 1.0).after(["comissioning"]),
    ]);
    let error = schedule(&p, &[]).unwrap_err();
    assert_eq!(
        error.to_string(),
        r#"milestone "trial" is after "comissioning", which is not a milestone of this plan — did you mean "commissioning"?"#
    );
    let far = plan(vec![Milestone::new("trial", "", 1.0).after(["sterilisation"])]);
    assert_eq!(
        schedule(&far, &[]).unwrap_err().to_string(),
        r#"milestone "trial" is after "sterilisation", which is not a milestone of this plan"#
    );
}

#[test]
fn keys_that_share_their_first_bytes_are_told_apart_and_ordered_in_full() {
    let firsts = ["milestone_b", "milestone_a", "milestone", "a\0", "a", "节点一"];
    let mut milestones: Vec<Milestone> = firsts.iter().map(|key| Milestone::new(*key, "", 0.0)).collect();
    milestones.push(Milestone::new("end", "", 1.0).after(firsts));
    let p = plan(milestones);
    let s = schedule(&p, &[]).unwrap();
    let order: Vec<&str> = s.topological_order().iter().map(|&i| p.milestones[i].key.as_str()).collect();
    assert_eq!(order, ["a", "a\0", "milestone", "milestone_a", "milestone_b", "节点一", "end"]);
    assert_eq!(s.critical_path().len(), 7);

    let mut typo = p.clone();
    typo.milestones[6].after.push("milestone_c".into());
    assert_eq!(
        schedule(&typo, &[]).unwrap_err(),
        PlanError::UnknownDependency {
            milestone: "end".into(),
            after: "milestone_c".into(),
            suggestion: Some("milestone_a".into())
        }
    );
    let mut twice = p.clone();
    twice.milestones.push(Milestone::new("milestone_a", "", 2.0));
    assert_eq!(schedule(&twice, &[]).unwrap_err(), PlanError::DuplicateMilestone { key: "milestone_a".into() });
}

#[test]
fn duplicate_keys_are_refused() {
    let p = plan(vec![Milestone::new("a", "", 1.0), Milestone::new("b", "", 1.0), Milestone::new("a", "", 2.0)]);
    assert_eq!(schedule(&p, &[]).unwrap_err(), PlanError::DuplicateMilestone { key: "a".into() });
}

#[test]
fn negative_or_nan_durations_are_refused() {
    for bad in [-1.0, f64::NAN, f64::INFINITY] {
        let p = plan(vec![Milestone::new("a", "", bad)]);
        assert!(matches!(schedule(&p, &[]), Err(PlanError::InvalidDuration { .. })));
    }
}

#[test]
fn a_blocker_resolving_late_moves_the_finish_and_makes_its_milestone_critical() {
    let p = plan(vec![
        Milestone::new("a", "", 10.0),
        Milestone::new("b", "", 2.0),
        Milestone::new("c", "", 1.0).after(["a", "b"]),
    ]);
    // b would finish at 2 h, but its need resolves at 20 h.
    let blockers = [blocker(7, "b", hours_after(p.start, 20.0))];
    let s = schedule(&p, &blockers).unwrap();
    assert_eq!(s.span_h(), 21.0);
    assert_eq!(hours(&p, &s, "b"), (0.0, 20.0, 0.0, 20.0, 0.0));
    assert_eq!(hours(&p, &s, "a"), (0.0, 10.0, 10.0, 20.0, 10.0));
    assert_eq!(critical(&p, &s), ["b", "c"]);
    assert_eq!(s.times(1).held_by, Some(NeedId(7)));
    assert_eq!(s.critical_blockers(), [NeedId(7)]);
}

#[test]
fn a_blocker_resolving_before_the_work_is_done_changes_nothing() {
    let p = plan(vec![Milestone::new("a", "", 10.0)]);
    let s = schedule(&p, &[blocker(1, "a", hours_after(p.start, 3.0))]).unwrap();
    assert_eq!(s.span_h(), 10.0);
    assert_eq!(s.times(0).held_by, None);
    assert!(s.critical_blockers().is_empty());
}

#[test]
fn the_latest_of_several_blockers_holds_a_milestone_and_ties_go_to_the_smallest_need() {
    let p = plan(vec![Milestone::new("a", "", 1.0)]);
    let late = hours_after(p.start, 30.0);
    let blockers = [blocker(9, "a", late), blocker(3, "a", hours_after(p.start, 5.0)), blocker(4, "a", late)];
    let s = schedule(&p, &blockers).unwrap();
    assert_eq!(s.span_h(), 30.0);
    assert_eq!(s.times(0).held_by, Some(NeedId(4)));
}

#[test]
fn a_blocker_on_an_unknown_milestone_is_refused() {
    let p = plan(vec![Milestone::new("a", "", 1.0)]);
    let error = schedule(&p, &[blocker(5, "b", p.start)]).unwrap_err();
    assert_eq!(error.to_string(), r#"need 5 blocks milestone "b", which is not a milestone of this plan"#);
}

#[test]
fn what_if_tells_how_far_first_output_moves_when_a_need_resolves_at_another_time() {
    let p = plan(vec![
        Milestone::new("a", "", 10.0),
        Milestone::new("b", "", 2.0),
        Milestone::new("c", "", 1.0).after(["a", "b"]),
    ]);
    let blockers = [blocker(7, "b", hours_after(p.start, 20.0))];
    let sooner = what_if(&p, &blockers, NeedId(7), hours_after(p.start, 4.0)).unwrap();
    assert_eq!(sooner.old_finish, hours_after(p.start, 21.0));
    assert_eq!(sooner.new_finish, hours_after(p.start, 11.0));
    assert_eq!(sooner.shift_h(), -10.0);
    let later = what_if(&p, &blockers, NeedId(7), hours_after(p.start, 30.0)).unwrap();
    assert_eq!(later.shift_h(), 10.0);
    assert_eq!(what_if(&p, &blockers, NeedId(8), p.start), Err(PlanError::NeedNotBlocking { need: NeedId(8) }));
}

#[test]
fn a_finished_milestone_finishes_at_its_actual_finish() {
    let mut p = plan(vec![Milestone::new("a", "", 10.0), Milestone::new("b", "", 5.0).after(["a"])]);
    p.milestones[0].actual_start = Some(hours_after(p.start, 1.0));
    p.milestones[0].actual_finish = Some(hours_after(p.start, 15.0));
    // A blocker on a finished milestone no longer holds it.
    let s = schedule(&p, &[blocker(1, "a", hours_after(p.start, 100.0))]).unwrap();
    assert_eq!(hours(&p, &s, "a"), (1.0, 15.0, 1.0, 15.0, 0.0));
    assert_eq!(hours(&p, &s, "b"), (15.0, 20.0, 15.0, 20.0, 0.0));
    assert_eq!(s.times(0).held_by, None);
}

#[test]
fn a_finished_milestone_without_an_actual_start_keeps_its_computed_start() {
    let mut p = plan(vec![Milestone::new("a", "", 10.0)]);
    p.milestones[0].actual_finish = Some(hours_after(p.start, 4.0));
    let s = schedule(&p, &[]).unwrap();
    assert_eq!(hours(&p, &s, "a"), (0.0, 4.0, 0.0, 4.0, 0.0));
}

#[test]
fn a_started_milestone_no_longer_waits_for_its_predecessors() {
    let mut p = plan(vec![
        Milestone::new("a", "", 10.0),
        Milestone::new("b", "", 5.0).after(["a"]),
        Milestone::new("c", "", 1.0).after(["b"]),
    ]);
    p.milestones[1].actual_start = Some(hours_after(p.start, 2.0));
    let s = schedule(&p, &[]).unwrap();
    // b's finish may slip 2 h before it moves the plan's finish.
    assert_eq!(hours(&p, &s, "b"), (2.0, 7.0, 4.0, 9.0, 2.0));
    assert_eq!(hours(&p, &s, "c"), (7.0, 8.0, 9.0, 10.0, 2.0));
    // a no longer gates b, so it alone decides the finish.
    assert_eq!(hours(&p, &s, "a"), (0.0, 10.0, 0.0, 10.0, 0.0));
    assert_eq!(critical(&p, &s), ["a"]);
}

#[test]
fn an_actual_finish_before_the_actual_start_is_refused() {
    let mut p = plan(vec![Milestone::new("a", "", 1.0)]);
    p.milestones[0].actual_start = Some(hours_after(p.start, 2.0));
    p.milestones[0].actual_finish = Some(hours_after(p.start, 1.0));
    assert_eq!(schedule(&p, &[]).unwrap_err(), PlanError::FinishBeforeStart { milestone: "a".into() });
}

#[test]
fn a_plan_beyond_the_calendar_is_refused() {
    let p = plan(vec![Milestone::new("a", "", 1e300)]);
    assert_eq!(schedule(&p, &[]).unwrap_err(), PlanError::OutOfRange);
}

#[test]
fn an_open_need_resolves_after_its_best_lead_time_or_else_at_its_deadline() {
    let now = t("2020-02-08T10:00:00+08:00");
    let deadline = t("2020-02-12T00:00:00+08:00");
    assert_eq!(expected_resolution(now, Some(36.0), deadline), t("2020-02-09T22:00:00+08:00"));
    assert_eq!(expected_resolution(now, Some(200.0), deadline), t("2020-02-16T18:00:00+08:00"));
    assert_eq!(expected_resolution(now, None, deadline), deadline);
    assert_eq!(expected_resolution(now, Some(f64::NAN), deadline), deadline);
    assert_eq!(expected_resolution(now, Some(-1.0), deadline), deadline);
}

/// The reference case (case-quwo-2020.md). Dates the report gives: lines held in 东莞 on
/// 2020-01-26, lines arrive 2020-01-31, first masks and samples on 2020-02-07, sterilisation
/// at 万荣 takes 36 h, the first 90,000 masks leave on 2020-02-13. The other durations are
/// plausible fill, not facts. The same plan is crates/cli/tests/data/quwo-plan.json.
fn quwo_plan() -> Plan {
    Plan {
        start: t("2020-01-26T08:00:00+08:00"),
        milestones: vec![
            Milestone::new("order_placed", "向东莞订购生产线 production lines ordered in 东莞", 0.0),
            Milestone::new("lines_held", "生产线滞留东莞，跨省协调放行 lines held in 东莞; cross-province release", 72.0)
                .after(["order_placed"]),
            Milestone::new("lines_arrive", "生产线运抵曲沃 lines shipped to 曲沃 and arrive", 48.0).after(["lines_held"]),
            Milestone::new("raw_materials", "熔喷布、无纺布、热风棉到货 raw materials arrive", 144.0).after(["order_placed"]),
            Milestone::new("skilled_workers", "邻县招募3名技术工人 3 skilled workers found", 48.0).after(["order_placed"]),
            Milestone::new("green_channel", "发改、生态环境、市场监管联合办公 green-channel approvals", 120.0)
                .after(["order_placed"]),
            Milestone::new("installation", "安装调试 installation and commissioning", 96.0).after(["lines_arrive"]),
            Milestone::new("slitting", "熔喷布分切至1.4米以下 melt-blown slitting", 48.0)
                .after(["installation", "raw_materials"]),
            Milestone::new("trial_production", "试生产 trial production", 24.0)
                .after(["slitting", "skilled_workers", "green_channel"]),
            Milestone::new("samples_inspection", "样品送省医疗器械检验中心 samples to the inspection centre", 24.0)
                .after(["trial_production"]),
            Milestone::new("sterilisation_found", "筛选灭菌企业，选定万荣 sterilisation provider chosen", 48.0)
                .after(["trial_production"]),
            Milestone::new("first_batch", "生产首批9万只口罩 first 90,000 masks produced", 108.0).after(["trial_production"]),
            Milestone::new("sterilisation", "万荣钴-60辐照灭菌 sterilisation at 万荣 (Co-60)", 36.0)
                .after(["first_batch", "sterilisation_found", "samples_inspection"]),
            Milestone::new("first_output", "首批9万只口罩出厂 first 90,000 masks leave", 0.0).after(["sterilisation"]),
        ],
    }
}

#[test]
fn the_reference_case_plan_produces_first_output_on_13_february() {
    let p = quwo_plan();
    let s = schedule(&p, &[]).unwrap();
    assert_eq!(s.finish(), t("2020-02-13T08:00:00+08:00"));
    assert_eq!(s.span_h(), 18.0 * 24.0);
    let arrive = p.milestones.iter().position(|m| m.key == "lines_arrive").unwrap();
    assert_eq!(s.times(arrive).ef, t("2020-01-31T08:00:00+08:00"));
    let trial = p.milestones.iter().position(|m| m.key == "trial_production").unwrap();
    assert_eq!(s.times(trial).ef, t("2020-02-07T08:00:00+08:00"));
    assert_eq!(
        critical(&p, &s),
        [
            "order_placed",
            "lines_held",
            "lines_arrive",
            "installation",
            "slitting",
            "trial_production",
            "first_batch",
            "sterilisation",
            "first_output"
        ]
    );
    assert_eq!(hours(&p, &s, "raw_materials").4, 72.0);
    assert_eq!(hours(&p, &s, "sterilisation_found").4, 60.0);
}

#[test]
fn in_the_reference_case_a_sterilisation_provider_found_late_delays_first_output() {
    let p = quwo_plan();
    // Had no provider been found until the 12th at 20:00, the masks would leave a day later.
    let blockers = [blocker(11, "sterilisation_found", t("2020-02-12T20:00:00+08:00"))];
    let s = schedule(&p, &blockers).unwrap();
    assert_eq!(s.finish(), t("2020-02-14T08:00:00+08:00"));
    assert_eq!(s.critical_blockers(), [NeedId(11)]);
    let answer = what_if(&p, &blockers, NeedId(11), t("2020-02-09T08:00:00+08:00")).unwrap();
    assert_eq!(answer.new_finish, t("2020-02-13T08:00:00+08:00"));
    assert_eq!(answer.shift_h(), -24.0);
}

/// A random DAG: `n` milestones, edges from lower to higher position in a permutation.
fn random_plan() -> impl Strategy<Value = Plan> {
    (1usize..8)
        .prop_flat_map(|n| {
            let pairs = n * (n - 1) / 2;
            (
                Just((0..n).collect::<Vec<usize>>()).prop_shuffle(),
                proptest::collection::vec(0u32..20, n),
                proptest::collection::vec(proptest::option::weighted(0.2, 0u32..40), n),
                proptest::collection::vec(proptest::bool::weighted(0.35), pairs),
            )
        })
        .prop_map(|(permutation, durations, not_before, edges)| {
            let n = permutation.len();
            let start = t(START);
            let mut milestones: Vec<Milestone> = (0..n)
                .map(|i| {
                    let mut m = Milestone::new(format!("m{i}"), "", f64::from(durations[i]));
                    m.not_before = not_before[i].map(|h| hours_after(start, f64::from(h)));
                    m
                })
                .collect();
            let mut k = 0;
            for a in 0..n {
                for b in a + 1..n {
                    if edges[k] {
                        let (from, to) = (permutation[a], permutation[b]);
                        let key = milestones[from].key.clone();
                        milestones[to].after.push(key);
                    }
                    k += 1;
                }
            }
            Plan { start, milestones }
        })
}

/// Every path ending at each milestone, enumerated without memory: the longest gives its
/// earliest start.
fn brute_force_es(p: &Plan, v: usize) -> i64 {
    let m = &p.milestones[v];
    let own = m.not_before.map_or(p.start, |t| t.max(p.start)).timestamp_millis();
    m.after
        .iter()
        .map(|key| {
            let u = p.milestones.iter().position(|x| &x.key == key).unwrap();
            brute_force_es(p, u) + hours_to_ms(p.milestones[u].duration_h)
        })
        .fold(own, i64::max)
}

/// The longest chain of durations from `v` (exclusive) to any end, over every path.
fn brute_force_tail(p: &Plan, v: usize) -> i64 {
    let key = &p.milestones[v].key;
    p.milestones
        .iter()
        .enumerate()
        .filter(|(_, m)| m.after.contains(key))
        .map(|(s, m)| hours_to_ms(m.duration_h) + brute_force_tail(p, s))
        .fold(0, i64::max)
}

proptest! {
    #[test]
    fn random_dags_match_a_brute_force_longest_path(p in random_plan()) {
        let s = schedule(&p, &[]).unwrap();
        let n = p.milestones.len();
        let es: Vec<i64> = (0..n).map(|v| brute_force_es(&p, v)).collect();
        let ef: Vec<i64> = (0..n).map(|v| es[v] + hours_to_ms(p.milestones[v].duration_h)).collect();
        let finish = ef.iter().copied().max().unwrap();
        prop_assert_eq!(s.finish().timestamp_millis(), finish);
        for v in 0..n {
            let times = s.times(v);
            prop_assert_eq!(times.es.timestamp_millis(), es[v]);
            prop_assert_eq!(times.ef.timestamp_millis(), ef[v]);
            // Without not_before, lf = finish − the longest tail; with it, lf is bounded by
            // the successors' latest starts, which the brute force checks below.
            prop_assert!(times.lf.timestamp_millis() <= finish - brute_force_tail(&p, v));
            prop_assert!(times.slack_h >= 0.0);
            prop_assert_eq!(times.critical, times.slack_h == 0.0);
        }
        // Latest finish: the tightest latest start over successors, or the finish.
        for (v, m) in p.milestones.iter().enumerate() {
            let lf = p.milestones.iter().enumerate()
                .filter(|(_, x)| x.after.contains(&m.key))
                .map(|(s_, _)| s.times(s_).ls.timestamp_millis())
                .fold(finish, i64::min);
            prop_assert_eq!(s.times(v).lf.timestamp_millis(), lf);
        }
        // Some milestone finishing last is critical, and the critical path is in dependency order.
        prop_assert!(s.critical_path().iter().any(|&i| ef[i] == finish));
        let position: Vec<usize> = {
            let mut position = vec![0; n];
            for (k, &i) in s.topological_order().iter().enumerate() { position[i] = k; }
            position
        };
        for (v, m) in p.milestones.iter().enumerate() {
            for key in &m.after {
                let u = p.milestones.iter().position(|x| &x.key == key).unwrap();
                prop_assert!(position[u] < position[v]);
            }
        }
    }

    #[test]
    fn without_not_before_latest_finishes_match_a_brute_force_longest_tail(p in random_plan()) {
        let mut p = p;
        for m in &mut p.milestones { m.not_before = None; }
        let s = schedule(&p, &[]).unwrap();
        let finish = s.finish().timestamp_millis();
        for v in 0..p.milestones.len() {
            prop_assert_eq!(s.times(v).lf.timestamp_millis(), finish - brute_force_tail(&p, v));
        }
        // Without not_before, the critical milestones form a chain from a first milestone to the finish.
        let cp = s.critical_path();
        prop_assert!(!cp.is_empty());
        prop_assert_eq!(s.times(cp[0]).es, p.start);
    }

    #[test]
    fn adding_an_edge_against_the_order_makes_a_cycle_that_is_named(p in random_plan()) {
        let n = p.milestones.len();
        let s = schedule(&p, &[]).unwrap();
        let order = s.topological_order().to_vec();
        // Find u → … → v reachable with a path, then add v → u.
        for &v in order.iter().rev() {
            if p.milestones[v].after.is_empty() { continue; }
            let u = p.milestones.iter().position(|x| x.key == p.milestones[v].after[0]).unwrap();
            let mut cyclic = p.clone();
            let key_v = cyclic.milestones[v].key.clone();
            cyclic.milestones[u].after.push(key_v);
            match schedule(&cyclic, &[]) {
                Err(PlanError::Cycle { milestones }) => {
                    prop_assert!(!milestones.is_empty() && milestones.len() <= n);
                    // Each is after the one before it, and the first after the last.
                    for k in 0..milestones.len() {
                        let before = &milestones[(k + milestones.len() - 1) % milestones.len()];
                        let m = cyclic.milestones.iter().find(|x| x.key == milestones[k]).unwrap();
                        prop_assert!(m.after.contains(before));
                    }
                }
                other => prop_assert!(false, "expected a cycle, got {:?}", other),
            }
            break;
        }
    }
}

//! Hand-checked instances, refusals, bounds, and random instances against an LP solver.

use super::*;
use proptest::prelude::*;

fn provider(id: i64, capacity: i64) -> Provider {
    Provider { id, capacity }
}
fn need(id: i64, quantity: i64, unmet_cost: i64) -> Need {
    Need { id, quantity, unmet_cost }
}
fn arc(need: i64, provider: i64, cost: i64) -> Arc {
    Arc { need, provider, cost }
}
fn assigned(need: i64, provider: i64, quantity: i64) -> Assignment {
    Assignment { need, provider, quantity }
}

/// Solves with the basis checked after every pivot too, and returns the ordinary answer after
/// checking both agree.
fn check(instance: &Instance) -> Allocation {
    let answer = solve(instance).unwrap();
    let checked = super::check(instance).unwrap();
    let flows = network_simplex::solve_checking_every_pivot(&checked).unwrap();
    let slow = allocation_from_flows(&checked, &flows.arc_flow, &flows.unmet).unwrap();
    assert_eq!(slow.cost, answer.cost);
    answer
}

#[test]
fn an_instance_without_competition_gives_each_need_its_cheapest_provider() {
    let instance = Instance {
        providers: vec![provider(1, 10), provider(2, 10)],
        needs: vec![need(10, 4, 100), need(11, 5, 100)],
        arcs: vec![arc(10, 1, 3), arc(10, 2, 5), arc(11, 1, 7), arc(11, 2, 2)],
    };
    let answer = check(&instance);
    assert_eq!(answer.assignments, vec![assigned(10, 1, 4), assigned(11, 2, 5)]);
    assert!(answer.unmet.is_empty());
    assert_eq!(answer.cost, 4 * 3 + 5 * 2);
}

#[test]
fn the_need_that_would_lose_more_elsewhere_gets_the_scarce_provider() {
    // Provider 1 can serve one of the two needs. Need 10 loses 1 per unit at provider 2 (cost 2
    // instead of 1); need 11 loses 8 (9 instead of 1). First come would give provider 1 to
    // need 10 and cost 5×1 + 5×9 = 50; the optimum gives it to need 11: 5×2 + 5×1 = 15.
    let instance = Instance {
        providers: vec![provider(1, 5), provider(2, 10)],
        needs: vec![need(10, 5, 100), need(11, 5, 100)],
        arcs: vec![arc(10, 1, 1), arc(10, 2, 2), arc(11, 1, 1), arc(11, 2, 9)],
    };
    let answer = check(&instance);
    assert_eq!(answer.assignments, vec![assigned(10, 2, 5), assigned(11, 1, 5)]);
    assert_eq!(answer.cost, 15);
    let first_come = greedy(&instance).unwrap();
    assert_eq!(first_come.assignments, vec![assigned(10, 1, 5), assigned(11, 2, 5)]);
    assert_eq!(first_come.cost, 50);
}

#[test]
fn demand_beyond_capacity_is_unmet_where_it_costs_least_and_a_need_may_be_split() {
    // 12 units wanted, 8 available. Need 10's shortfall costs 20 a unit, need 11's 50: need 11
    // is served in full (6 from provider 1), need 10 gets the remaining 2 units of provider 1
    // and all 2 of provider 2, and 2 units stay unmet.
    let instance = Instance {
        providers: vec![provider(1, 6 + 2), provider(2, 0)],
        needs: vec![need(10, 6, 20), need(11, 6, 50)],
        arcs: vec![arc(10, 1, 1), arc(11, 1, 1), arc(10, 2, 1)],
    };
    let answer = check(&instance);
    assert_eq!(answer.assignments, vec![assigned(10, 1, 2), assigned(11, 1, 6)]);
    assert_eq!(answer.unmet, vec![Unmet { need: 10, quantity: 4 }]);
    assert_eq!(answer.cost, 2 + 6 + 4 * 20);

    let split = Instance {
        providers: vec![provider(1, 3), provider(2, 3)],
        needs: vec![need(10, 5, 100)],
        arcs: vec![arc(10, 1, 1), arc(10, 2, 4)],
    };
    let answer = check(&split);
    assert_eq!(answer.assignments, vec![assigned(10, 1, 3), assigned(10, 2, 2)]);
    assert_eq!(answer.cost, 3 + 8);
}

#[test]
fn an_arc_dearer_than_leaving_the_need_unmet_is_not_used() {
    let instance = Instance { providers: vec![provider(1, 10)], needs: vec![need(10, 3, 5)], arcs: vec![arc(10, 1, 6)] };
    let answer = check(&instance);
    assert!(answer.assignments.is_empty());
    assert_eq!(answer.unmet, vec![Unmet { need: 10, quantity: 3 }]);
    assert_eq!(answer.cost, 15);
}

#[test]
fn empty_instances_and_zero_quantities_cost_nothing() {
    assert_eq!(check(&Instance::default()), Allocation::default());
    let zeros = Instance { providers: vec![provider(1, 0)], needs: vec![need(10, 0, 9)], arcs: vec![arc(10, 1, 1)] };
    assert_eq!(check(&zeros), Allocation::default());
}

/// The reference case's sterilisation, made a competition: three mask makers near 临汾 need
/// their trial output sterilised in the same week (2020-02-08), and 万荣华康 (钴60, 36 h,
/// 100,000 a day assumed by the demo) is the only plant within their limits of 400 km and
/// 96 h — the 晋北 e-beam plant is too far and 太原's EO too slow for all but the third maker,
/// whose limits are looser. Horizon: two days, so 万荣 can take 200,000 masks. Costs per 1,000
/// masks are weight × lead hours (weight: hours first output moves per hour of wait × 10, +1).
/// - A: 曲沃, 90,000 masks, sterilisation on its critical path (weight 11), 万荣 lead 45 h.
/// - B: 侯马, 90,000 masks, 30 h of slack (weight 1), 万荣 lead 44 h.
/// - C: 襄汾, 60,000 masks, critical (weight 11), 万荣 lead 46 h; 太原 EO lead 180 h allowed.
///
/// 万荣 cannot take all 240,000. Units of 1,000 masks: A 90, B 90, C 60; 万荣 200.
#[test]
fn three_makers_competing_for_wanrong_are_served_by_what_their_plans_lose() {
    let wanrong = 140822;
    let taiyuan = 140105;
    let (a, b, c) = (1, 2, 3);
    let unmet = |weight: i64| weight * 400; // waits the 2-day horizon and more: 400 h
    let instance = Instance {
        providers: vec![provider(wanrong, 200), provider(taiyuan, 100)],
        needs: vec![need(a, 90, unmet(11)), need(b, 90, unmet(1)), need(c, 60, unmet(11))],
        arcs: vec![arc(a, wanrong, 11 * 45), arc(b, wanrong, 44), arc(c, wanrong, 11 * 46), arc(c, taiyuan, 11 * 180)],
    };
    let answer = check(&instance);
    // A and C (both critical) go to 万荣 first: 150 units; B (slack) gets the 50 left and 40
    // units wait. Moving C to 太原 would free 60 for B: C loses 11 × (180 − 46) = 1,474 a unit,
    // B gains only 400 − 44 = 356 — not worth it.
    assert_eq!(answer.assignments, vec![assigned(a, wanrong, 90), assigned(b, wanrong, 50), assigned(c, wanrong, 60)]);
    assert_eq!(answer.unmet, vec![Unmet { need: b, quantity: 40 }]);
    assert_eq!(answer.cost, 90 * 495 + 50 * 44 + 60 * 506 + 40 * 400);

    // First come (needs by id: A, B, C): A 90 and B 90 at 万荣, C gets the 20 left there and
    // 40 at 太原.
    let first_come = greedy(&instance).unwrap();
    assert_eq!(
        first_come.assignments,
        vec![assigned(a, wanrong, 90), assigned(b, wanrong, 90), assigned(c, taiyuan, 40), assigned(c, wanrong, 20)]
    );
    assert!(first_come.unmet.is_empty());
    assert_eq!(first_come.cost, 90 * 495 + 90 * 44 + 20 * 506 + 40 * 1980);
    assert!(answer.cost < first_come.cost);
}

#[test]
fn bad_instances_are_refused_saying_what_was_wrong() {
    let good = || Instance { providers: vec![provider(1, 5)], needs: vec![need(10, 3, 9)], arcs: vec![arc(10, 1, 2)] };
    let refused = |instance: Instance| solve(&instance).unwrap_err();

    let mut i = good();
    i.providers[0].capacity = -1;
    let e = refused(i);
    assert_eq!(e, AllocationError::NegativeCapacity { provider: 1, capacity: -1 });
    assert_eq!(e.to_string(), "provider 1 has capacity -1: a capacity must be an integer ≥ 0");

    let mut i = good();
    i.needs[0].quantity = -3;
    assert_eq!(refused(i), AllocationError::NegativeQuantity { need: 10, quantity: -3 });
    let mut i = good();
    i.needs[0].unmet_cost = -3;
    assert_eq!(refused(i), AllocationError::NegativeUnmetCost { need: 10, unmet_cost: -3 });
    let mut i = good();
    i.arcs[0].cost = -2;
    assert_eq!(refused(i), AllocationError::NegativeCost { need: 10, provider: 1, cost: -2 });

    let mut i = good();
    i.providers.push(provider(1, 7));
    assert_eq!(refused(i), AllocationError::DuplicateProvider { provider: 1 });
    let mut i = good();
    i.needs.push(need(10, 1, 1));
    assert_eq!(refused(i), AllocationError::DuplicateNeed { need: 10 });
    let mut i = good();
    i.arcs.push(arc(10, 1, 4));
    let e = refused(i);
    assert_eq!(e, AllocationError::DuplicateArc { need: 10, provider: 1 });
    assert_eq!(e.to_string(), "two arcs join need 10 and provider 1: keep one, with its cost");

    let mut i = good();
    i.arcs.push(arc(11, 1, 4));
    let e = refused(i);
    assert_eq!(e, AllocationError::UnknownNeed { arc: 1, need: 11 });
    assert_eq!(e.to_string(), "arc 1 (counting from 0) names need 11, which is not among the needs: add it or remove the arc");
    let mut i = good();
    i.arcs.push(arc(10, 2, 4));
    assert_eq!(refused(i), AllocationError::UnknownProvider { arc: 1, provider: 2 });
    // Provider ids without gaps are found by subtraction, with gaps by search: both refuse ids
    // below, above and between them, and ids at the ends of the integers.
    for (ids, unknown) in [(vec![1, 2, 3], vec![0, 4, i64::MIN, i64::MAX]), (vec![1, 3, 4], vec![0, 2, 5, i64::MIN, i64::MAX])] {
        for id in unknown {
            let mut i = good();
            i.providers = ids.iter().map(|&p| provider(p, 5)).collect();
            i.arcs.push(arc(10, id, 4));
            assert_eq!(refused(i), AllocationError::UnknownProvider { arc: 1, provider: id });
        }
    }
    // The baseline refuses the same.
    let mut i = good();
    i.arcs.push(arc(10, 2, 4));
    assert_eq!(greedy(&i).unwrap_err(), AllocationError::UnknownProvider { arc: 1, provider: 2 });
}

#[test]
fn numbers_beyond_the_stated_bounds_are_refused_instead_of_overflowing() {
    let too_much_capacity = Instance { providers: vec![provider(1, i64::MAX), provider(2, 1)], ..Instance::default() };
    assert!(matches!(solve(&too_much_capacity), Err(AllocationError::TooLarge { .. })));
    let too_costly = Instance { providers: vec![provider(1, 10)], needs: vec![need(10, 1 << 32, 1 << 32)], arcs: vec![] };
    let e = solve(&too_costly).unwrap_err();
    assert!(e.to_string().contains("largest possible total cost"), "{e}");
    let potentials = Instance { providers: vec![provider(1, 1)], needs: vec![need(10, 1, i64::MAX / 4)], arcs: vec![] };
    let e = solve(&potentials).unwrap_err();
    assert!(e.to_string().contains("nodes"), "{e}");
    // Just inside the bounds: costs of 2^40 with quantities of 2^20.
    let big = Instance {
        providers: vec![provider(1, 1 << 20), provider(2, 1 << 20)],
        needs: vec![need(10, 1 << 20, 1 << 40), need(11, 1 << 20, (1 << 40) - 1)],
        arcs: vec![arc(10, 1, (1 << 40) - 2), arc(11, 1, 0), arc(11, 2, 1)],
    };
    let answer = check(&big);
    assert_eq!(answer.assignments, vec![assigned(10, 1, 1 << 20), assigned(11, 2, 1 << 20)]);
}

#[test]
fn the_answer_does_not_depend_on_the_order_of_the_lists() {
    let instance = Instance {
        providers: vec![provider(2, 4), provider(1, 4)],
        needs: vec![need(11, 4, 10), need(10, 4, 10)],
        arcs: vec![arc(11, 2, 1), arc(10, 2, 1), arc(11, 1, 1), arc(10, 1, 1)],
    };
    let mut reversed = instance.clone();
    reversed.providers.reverse();
    reversed.needs.reverse();
    reversed.arcs.reverse();
    assert_eq!(solve(&instance).unwrap(), solve(&reversed).unwrap());
}

/// The LP relaxation of the instance, solved by microlp: its optimum is the flow problem's
/// (the constraint matrix is totally unimodular).
fn lp_optimum(instance: &Instance) -> f64 {
    use good_lp::{Expression, Solution, SolverModel, constraint, microlp, variable, variables};
    let mut vars = variables!();
    let flows: Vec<_> = instance.arcs.iter().map(|_| vars.add(variable().min(0))).collect();
    let unmet: Vec<_> = instance.needs.iter().map(|_| vars.add(variable().min(0))).collect();
    let mut objective = Expression::from(0.0);
    for (a, &x) in instance.arcs.iter().zip(&flows) {
        objective += a.cost as f64 * x;
    }
    for (n, &u) in instance.needs.iter().zip(&unmet) {
        objective += n.unmet_cost as f64 * u;
    }
    let mut model = vars.minimise(objective.clone()).using(microlp);
    for (n, &u) in instance.needs.iter().zip(&unmet) {
        let mut served = Expression::from(u);
        for (a, &x) in instance.arcs.iter().zip(&flows) {
            if a.need == n.id {
                served += x;
            }
        }
        model = model.with(constraint!(served == n.quantity as f64));
    }
    for p in &instance.providers {
        let mut used = Expression::from(0.0);
        for (a, &x) in instance.arcs.iter().zip(&flows) {
            if a.provider == p.id {
                used += x;
            }
        }
        model = model.with(constraint!(used <= p.capacity as f64));
    }
    let solution = model.solve().unwrap();
    solution.eval(&objective)
}

/// Random small instances: ids drawn sparse and shuffled, each pair an arc with some chance.
fn any_instance() -> impl Strategy<Value = Instance> {
    (1usize..7, 1usize..9)
        .prop_flat_map(|(providers, needs)| {
            (
                proptest::collection::vec(0i64..30, providers),
                proptest::collection::vec((0i64..20, 0i64..60), needs),
                proptest::collection::vec(proptest::option::weighted(0.5, 0i64..40), providers * needs),
                any::<u64>(),
            )
        })
        .prop_map(|(capacities, needs, costs, seed)| {
            let provider_ids: Vec<i64> = (0..capacities.len() as i64).map(|i| 7 * i + 3).collect();
            let need_ids: Vec<i64> = (0..needs.len() as i64).map(|i| 100 - 5 * i).collect();
            let mut instance = Instance {
                providers: provider_ids.iter().zip(&capacities).map(|(&id, &capacity)| provider(id, capacity)).collect(),
                needs: need_ids.iter().zip(&needs).map(|(&id, &(q, u))| need(id, q, u)).collect(),
                arcs: Vec::new(),
            };
            for (i, cost) in costs.iter().enumerate() {
                if let Some(cost) = cost {
                    instance.arcs.push(arc(need_ids[i / capacities.len()], provider_ids[i % capacities.len()], *cost));
                }
            }
            // A fixed shuffle of the arcs from the seed.
            let mut state = seed | 1;
            for i in (1..instance.arcs.len()).rev() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                instance.arcs.swap(i, (state % (i as u64 + 1)) as usize);
            }
            instance
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn random_instances_reach_the_lp_optimum_within_capacity_and_never_worse_than_first_come(instance in any_instance()) {
        let answer = check(&instance);
        let lp = lp_optimum(&instance);
        prop_assert!((answer.cost as f64 - lp).abs() < 1e-6, "ours {} vs LP {}", answer.cost, lp);

        // Capacity never exceeded; every need's quantity is assigned or unmet; only arcs used.
        for p in &instance.providers {
            let used: i64 = answer.assignments.iter().filter(|a| a.provider == p.id).map(|a| a.quantity).sum();
            prop_assert!(used <= p.capacity);
        }
        for n in &instance.needs {
            let served: i64 = answer.assignments.iter().filter(|a| a.need == n.id).map(|a| a.quantity).sum();
            let unmet: i64 = answer.unmet.iter().filter(|u| u.need == n.id).map(|u| u.quantity).sum();
            prop_assert_eq!(served + unmet, n.quantity);
        }
        for a in &answer.assignments {
            prop_assert!(a.quantity > 0);
            prop_assert!(instance.arcs.iter().any(|x| x.need == a.need && x.provider == a.provider));
        }
        prop_assert!(answer.assignments.windows(2).all(|w| (w[0].need, w[0].provider) < (w[1].need, w[1].provider)));

        let first_come = greedy(&instance).unwrap();
        prop_assert!(answer.cost <= first_come.cost);
        for p in &instance.providers {
            let used: i64 = first_come.assignments.iter().filter(|a| a.provider == p.id).map(|a| a.quantity).sum();
            prop_assert!(used <= p.capacity);
        }

        let mut reversed = instance.clone();
        reversed.arcs.reverse();
        reversed.needs.reverse();
        prop_assert_eq!(solve(&reversed).unwrap(), answer.clone());
        // Arcs need by need (providers still shuffled): the check's short way to put them in order.
        let mut grouped = instance.clone();
        grouped.arcs.sort_by_key(|a| a.need);
        prop_assert_eq!(solve(&grouped).unwrap(), answer);
    }

    /// Pricing only each need's best offers between full passes, in rounds of any length, with
    /// the full pass shared among any number of threads, reaches the optimum that pricing every
    /// arc (the most negative reduced cost of all, each pivot) reaches; and the threads change
    /// nothing: the same flows with one or several.
    #[test]
    fn pricing_a_few_candidates_per_need_reaches_the_optimum_of_pricing_every_arc(
        instance in any_instance(),
        per_need in 1usize..4,
        block in 1usize..40,
        round_pivots in prop_oneof![Just(usize::MAX), 1usize..10],
        threads in 2usize..5,
    ) {
        let checked = super::check(&instance).unwrap();
        let cost = |flows: network_simplex::Flows| allocation_from_flows(&checked, &flows.arc_flow, &flows.unmet).unwrap().cost;
        let every_arc = cost(network_simplex::solve_pricing(&checked, usize::MAX, usize::MAX, usize::MAX, 1).unwrap());
        let one_thread = network_simplex::solve_pricing(&checked, per_need, block, round_pivots, 1).unwrap();
        let threads = network_simplex::solve_pricing(&checked, per_need, block, round_pivots, threads).unwrap();
        prop_assert_eq!(&threads.arc_flow, &one_thread.arc_flow);
        prop_assert_eq!(&threads.unmet, &one_thread.unmet);
        prop_assert_eq!(cost(threads), every_arc);
        prop_assert_eq!(solve(&instance).unwrap().cost, every_arc);
    }
}

/// An instance the size of a district (40 providers, 400 needs, each joined to its 8 nearest
/// providers), where candidate rounds matter: the same optimum with candidates (two per need,
/// one per need with small blocks) as with every arc priced, and better than first come.
#[test]
fn a_district_sized_instance_reaches_the_same_optimum_however_it_is_priced() {
    let mut state = 0x2020_0208_u64;
    let mut next = move |below: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % below
    };
    let places: Vec<(i64, i64)> = (0..40).map(|_| (next(1000) as i64, next(1000) as i64)).collect();
    let mut instance = Instance::default();
    for (p, _) in places.iter().enumerate() {
        instance.providers.push(provider(p as i64 + 1, 20 + next(60) as i64));
    }
    for n in 0..400 {
        let (x, y) = (next(1000) as i64, next(1000) as i64);
        let weight = 1 + next(10) as i64;
        instance.needs.push(need(n + 1, 1 + next(10) as i64, weight * 2000));
        let mut by_distance: Vec<(i64, usize)> =
            places.iter().enumerate().map(|(p, &(px, py))| ((px - x).abs() + (py - y).abs(), p)).collect();
        by_distance.sort_unstable();
        for &(km, p) in &by_distance[..8] {
            instance.arcs.push(arc(n + 1, p as i64 + 1, weight * km));
        }
    }
    let checked = super::check(&instance).unwrap();
    let cost = |flows: network_simplex::Flows| allocation_from_flows(&checked, &flows.arc_flow, &flows.unmet).unwrap().cost;
    let every_arc = cost(network_simplex::solve_pricing(&checked, usize::MAX, usize::MAX, usize::MAX, 1).unwrap());
    assert_eq!(cost(network_simplex::solve_pricing(&checked, 1, 7, usize::MAX, 1).unwrap()), every_arc);
    assert_eq!(cost(network_simplex::solve_pricing(&checked, 3, 1000, 30, 3).unwrap()), every_arc);
    assert_eq!(cost(network_simplex::solve_pricing(&checked, 2, 100, 1, 2).unwrap()), every_arc);
    let answer = check(&instance);
    assert_eq!(answer.cost, every_arc);
    assert!(answer.cost < greedy(&instance).unwrap().cost);
}

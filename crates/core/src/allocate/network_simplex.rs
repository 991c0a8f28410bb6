//! The primal network simplex method for the uncapacitated minimum-cost flow of [`super`].
//!
//! The network: a node per provider and per need, and a root that stands for "elsewhere" —
//! each provider sends its capacity left over to the root at cost 0, the root sends each need
//! its unmet quantity at the need's unmet cost, and the instance's arcs join providers to needs.
//! The root's balance is Σ quantity − Σ capacity. Those root arcs make the first basis: a star
//! in which everything is left over and everything is unmet, feasible at once and with real
//! costs (no artificial arcs, no big-M). Every arc is uncapacitated, so an arc outside the tree
//! carries no flow.
//!
//! The method is the textbook one (Ahuja, Magnanti and Orlin, *Network Flows*, §11) in three
//! phases, each a function below:
//! 1. [`Simplex::star`]: the first basis, above.
//! 2. [`Simplex::initial_pivots`]: each need's cheapest arc enters if it pays, the needs that
//!    save most by it first.
//! 3. [`Simplex::run`], in rounds. A round starts with a full pass over every arc
//!    ([`Simplex::choose_candidates`]): if no arc has a negative reduced cost the flow is
//!    optimal and the method stops (this pass is the optimality check); otherwise each need's
//!    [`CANDIDATES`] best offers at the current prices (cost + the provider's potential) become
//!    its candidates. Then arcs enter from the candidates, the needs' unmet arcs and the
//!    providers' leftover arcs only ([`Simplex::entering_candidate`]: the most negative reduced
//!    cost of a block of about [`BLOCK`], blocks taken in turn) until none of them has a
//!    negative reduced cost or as many arcs as an eighth of the nodes have entered ([`ROUND_SHARE`]), and
//!    the next round starts. A need's most negative arc is always among its candidates, so a
//!    round that does not stop pivots at least once. The full pass is shared among the
//!    machine's cores ([`full_pass_threads`]): the needs are independent in it.
//!
//! Pricing two offers per need instead of all twenty (on the bench instance) cut the pricing
//! work, and, unexpectedly, the pivots' work too: arcs chosen among each need's best offers
//! close short cycles and move small subtrees (BENCHMARKS.md, issue 19). The leaving arc is
//! the last blocking arc met going round the cycle from its apex, which keeps the tree strongly
//! feasible and so rules out cycling. Potentials satisfy `cost + π(source) − π(target) = 0` on
//! tree arcs with π(root) = 0; the method stops when no arc has a negative reduced cost, which
//! is optimality.
//!
//! What is particular is how the spanning tree is kept, for the shape of allocation: tens of
//! thousands of needs against a few thousand providers make a tree in which almost every need
//! is a leaf under a provider, and the usual preorder thread would make each pivot walk (and
//! shift the potential of) every such leaf in the subtree it moves — thousands per pivot. Here
//! only providers and the root store a potential; a need's is its parent's plus the cost of the
//! arc between them (`anchor` and `offset`), so a leaf need follows its provider for free. The
//! tree is kept as parent pointers with subtree sizes (for the cycle's apex) and, for the
//! subtree walk, lists of providers only: the providers hanging from each need (`hanging`), and
//! for each provider the providers two levels below it, under one of its needs (`below`) —
//! providers and needs alternate down the tree, so moving a subtree touches its providers only,
//! neither its leaf needs nor the needs between providers. What a
//! pivot's walks read of a node (parent, subtree size, the arc to the parent with its direction,
//! flow and cost) is kept together in one [`TreeNode`], and only tree arcs carry flow, so the
//! walks never read the arc array.
//!
//! Arithmetic stays within the bounds that [`super::bounds`] checked: a potential is a sum of
//! costs along a tree path from the root.

use super::{AllocationError, Checked, bounds};

/// No node, no arc: `u32::MAX`, which [`super::check`] keeps above every index.
const NONE: usize = u32::MAX as usize;
const NIL: u32 = u32::MAX;
/// The arc to the parent goes up (node → parent) or down (parent → node).
const UP: i8 = 1;
const DOWN: i8 = -1;

#[derive(Clone, Copy, Debug)]
struct ArcData {
    source: u32,
    target: u32,
    cost: i64,
}

/// The flows the method found: per arc of the checked instance, and the unmet quantity per need.
#[derive(Debug)]
pub(crate) struct Flows {
    pub arc_flow: Vec<i64>,
    pub unmet: Vec<i64>,
}

pub(crate) fn solve(checked: &Checked) -> Result<Flows, AllocationError> {
    bounds(checked)?;
    let mut simplex = Simplex::star(checked);
    simplex.initial_pivots()?;
    simplex.run(CANDIDATES, BLOCK, round_pivots(checked), &mut |_| {})?;
    Ok(simplex.flows(checked))
}

/// How many arcs of each need the pricing looks at between full passes: those of least cost plus
/// provider potential (the need's best offers at the current prices). On the bench instance
/// (BENCHMARKS.md, issue 19) one took 3.5 times as long (many more rounds), three 10 % longer.
const CANDIDATES: usize = 2;

/// How many reduced costs a block of the candidate search computes: the entering arc is the
/// most negative of the first block that has one. On the bench instance 100 (about 30 needs) was
/// fastest; 50 and 200 were slower, √candidates (about 390) a third slower.
const BLOCK: usize = 100;

/// How many threads share a full pass over `arcs` arcs: one below [`PARALLEL_ARCS`], else as many
/// as the machine runs at once, at most [`MAX_THREADS`].
fn full_pass_threads(arcs: usize) -> usize {
    if arcs < PARALLEL_ARCS {
        return 1;
    }
    std::thread::available_parallelism().map_or(1, |n| n.get()).min(MAX_THREADS)
}

/// Below this many arcs a full pass stays on one thread (starting a thread costs more than it saves).
const PARALLEL_ARCS: usize = 100_000;
const MAX_THREADS: usize = 8;

/// A round ends after this share of the nodes have entered (one pivot per eight nodes, at least
/// one), and the next full pass chooses the candidates again at the prices reached: the prices
/// move as the pivots go, and after a few thousand pivots the candidates chosen at the start of
/// the round are no longer each need's best offers. On the bench instance (52,000 nodes) rounds
/// of 6,500 pivots took 230,000 pivots in 33 rounds, against 353,000 in 25 rounds ending only
/// when the candidates had nothing left; rounds of 3,000 and 13,000 were slower.
const ROUND_SHARE: usize = 8;

fn round_pivots(checked: &Checked) -> usize {
    ((checked.providers.len() + checked.needs.len()) / ROUND_SHARE).max(1)
}

/// A need's candidate arc, copied out of `arcs` so that pricing reads one array in order.
#[derive(Clone, Copy, Debug)]
struct Candidate {
    arc: u32,
    provider: u32,
    cost: i64,
}

/// The spanning-tree basis and the flows. Nodes: providers `0..providers`, needs after them,
/// the root last.
struct Simplex {
    arcs: Vec<ArcData>,
    providers: usize,
    root: usize,
    /// Arcs from here on are the leftover arcs (one per provider), then the unmet arcs.
    first_root_arc: usize,
    /// How many threads share a full pass ([`full_pass_threads`]).
    threads: usize,
    // Per node, the root included.
    tree: Vec<TreeNode>,
    /// π(u) = pi[anchor[u]] + offset[u]: a provider or the root is its own anchor (offset 0);
    /// a need's anchor is its parent, and its offset the arc's cost, signed.
    pi: Vec<i64>,
    anchor: Vec<u32>,
    offset: Vec<i64>,
    /// The providers hanging from each need (a list per need).
    hanging: Vec<Links>,
    /// The providers two levels below each provider and the root, under one of its needs (a list
    /// per provider and the root): what a potential shift walks, needs skipped.
    below: Vec<Links>,
    // Scratch for a pivot.
    stem: Vec<usize>,
    blocks: Vec<usize>,
    stack: Vec<usize>,
    /// Need `n`'s arcs are `first_arc[n]..first_arc[n + 1]`.
    first_arc: Vec<usize>,
    /// Need `n`'s candidates are `candidates[first_candidate[n]..first_candidate[n + 1]]`.
    first_candidate: Vec<usize>,
    candidates: Vec<Candidate>,
    /// Where the next candidate search starts: a need, or `needs + p` for provider `p`'s
    /// leftover arc.
    next_item: usize,
}

/// What the walks of a pivot read of a node, kept together (one cache line per node visited).
#[derive(Clone, Copy, Debug)]
struct TreeNode {
    parent: u32,
    /// Nodes in the subtree (the node included).
    size: u32,
    /// The arc to the parent, its direction, its flow (only tree arcs carry flow) and its cost.
    pred: u32,
    pred_dir: i8,
    flow: i64,
    cost: i64,
}

/// Doubly linked lists of providers, one per owner node: `first` is the owner's head, `next` and
/// `prev` a listed provider's neighbours (a provider is in at most one list of each kind).
#[derive(Clone, Copy, Debug)]
struct Links {
    first: u32,
    next: u32,
    prev: u32,
}

fn list_insert(lists: &mut [Links], owner: usize, u: usize) {
    let first = lists[owner].first;
    lists[u].next = first;
    lists[u].prev = NIL;
    if first != NIL {
        lists[first as usize].prev = u as u32;
    }
    lists[owner].first = u as u32;
}

fn list_remove(lists: &mut [Links], owner: usize, u: usize) {
    let (prev, next) = (lists[u].prev, lists[u].next);
    if prev == NIL {
        lists[owner].first = next;
    } else {
        lists[prev as usize].next = next;
    }
    if next != NIL {
        lists[next as usize].prev = prev;
    }
}

/// One pivot: the entering arc, the cycle's apex, and the leaving arc's tree side.
struct Pivot {
    in_arc: usize,
    arc: ArcData,
    join: usize,
    /// The endpoint of the entering arc inside the subtree that moves, and the other one.
    u_in: usize,
    v_in: usize,
    /// The node whose arc to its parent leaves the tree.
    u_out: usize,
    delta: i64,
}

impl Simplex {
    /// The first basis: every provider hangs from the root by its leftover arc, every need by
    /// its unmet arc. Arcs: the instance's (providers → needs), then a leftover arc per
    /// provider, then an unmet arc per need.
    fn star(checked: &Checked) -> Simplex {
        let providers = checked.providers.len();
        let nodes = providers + checked.needs.len();
        let root = nodes;
        let mut arcs = Vec::with_capacity(checked.arcs.len() + nodes);
        for &(n, p, cost) in &checked.arcs {
            arcs.push(ArcData { source: p, target: (providers + n as usize) as u32, cost });
        }
        let first_root_arc = arcs.len();
        let mut anchor: Vec<u32> = (0..=nodes as u32).collect();
        let mut offset = vec![0i64; nodes + 1];
        // Every node hangs from the root: a provider by its leftover arc (all its capacity left
        // over), a need by its unmet arc (all of it unmet).
        let mut tree = vec![TreeNode { parent: root as u32, size: 1, pred: NIL, pred_dir: UP, flow: 0, cost: 0 }; nodes + 1];
        for (p, provider) in checked.providers.iter().enumerate() {
            arcs.push(ArcData { source: p as u32, target: root as u32, cost: 0 });
            tree[p].pred = (first_root_arc + p) as u32;
            tree[p].flow = provider.capacity;
        }
        for (n, need) in checked.needs.iter().enumerate() {
            let u = providers + n;
            arcs.push(ArcData { source: root as u32, target: u as u32, cost: need.unmet_cost });
            tree[u] = TreeNode {
                parent: root as u32,
                size: 1,
                pred: (first_root_arc + u) as u32,
                pred_dir: DOWN,
                flow: need.quantity,
                cost: need.unmet_cost,
            };
            anchor[u] = root as u32;
            offset[u] = need.unmet_cost;
        }
        tree[root] = TreeNode { parent: NIL, size: (nodes + 1) as u32, pred: NIL, pred_dir: UP, flow: 0, cost: 0 };
        let mut simplex = Simplex {
            arcs,
            providers,
            root,
            first_root_arc,
            threads: full_pass_threads(first_root_arc),
            tree,
            pi: vec![0i64; nodes + 1],
            anchor,
            offset,
            hanging: vec![Links { first: NIL, next: NIL, prev: NIL }; nodes + 1],
            below: vec![Links { first: NIL, next: NIL, prev: NIL }; nodes + 1],
            stem: Vec::new(),
            blocks: Vec::new(),
            stack: Vec::new(),
            first_arc: Vec::new(),
            first_candidate: Vec::new(),
            candidates: Vec::new(),
            next_item: 0,
        };
        let mut first_arc = vec![0usize; checked.needs.len() + 1];
        for &(n, _, _) in &checked.arcs {
            first_arc[n as usize + 1] += 1;
        }
        for n in 0..checked.needs.len() {
            first_arc[n + 1] += first_arc[n];
        }
        simplex.first_arc = first_arc;
        simplex
    }

    /// The flows: per arc of the instance, and unmet per need.
    fn flows(&self, checked: &Checked) -> Flows {
        let flow = self.arc_flows();
        let unmet_first = self.first_root_arc + self.providers;
        Flows { arc_flow: flow[..checked.arcs.len()].to_vec(), unmet: flow[unmet_first..unmet_first + checked.needs.len()].to_vec() }
    }

    /// The flow on every arc: a tree arc's is kept by the node below it, the others carry none.
    fn arc_flows(&self) -> Vec<i64> {
        let mut flow = vec![0i64; self.arcs.len()];
        for u in 0..self.root {
            flow[self.tree[u].pred as usize] = self.tree[u].flow;
        }
        flow
    }

    fn potential(&self, u: usize) -> i64 {
        self.pi[self.anchor[u] as usize] + self.offset[u]
    }

    fn reduced_cost(&self, e: usize) -> i64 {
        let a = self.arcs[e];
        a.cost + self.potential(a.source as usize) - self.potential(a.target as usize)
    }

    fn is_need(&self, u: usize) -> bool {
        u >= self.providers && u != self.root
    }

    /// Takes `u` from under its parent, keeping the lists: a provider leaves its need's list
    /// and the list of the node above that; a need's providers leave the list of its parent.
    fn unlink(&mut self, u: usize) {
        let p = self.tree[u].parent as usize;
        if self.is_need(u) {
            let mut c = self.hanging[u].first;
            while c != NIL {
                list_remove(&mut self.below, p, c as usize);
                c = self.hanging[c as usize].next;
            }
        } else if self.is_need(p) {
            list_remove(&mut self.hanging, p, u);
            if self.tree[p].parent != NIL {
                list_remove(&mut self.below, self.tree[p].parent as usize, u);
            }
        }
        self.tree[u].parent = NIL;
    }

    /// Puts `u` under `p`, keeping the lists (the reverse of [`Simplex::unlink`]).
    fn link(&mut self, u: usize, p: usize) {
        self.tree[u].parent = p as u32;
        if self.is_need(u) {
            let mut c = self.hanging[u].first;
            while c != NIL {
                list_insert(&mut self.below, p, c as usize);
                c = self.hanging[c as usize].next;
            }
        } else if self.is_need(p) {
            list_insert(&mut self.hanging, p, u);
            if self.tree[p].parent != NIL {
                list_insert(&mut self.below, self.tree[p].parent as usize, u);
            }
        }
    }

    /// Brings in, for each need, its cheapest arc from a provider (ties: the first, which is
    /// the smallest provider id) when its reduced cost is negative — the needs in order of what
    /// that arc saves against leaving them unmet (unmet cost − arc cost), most first, ties by
    /// arc: the needs that lose most when unserved take the providers near them first, much as
    /// the optimum gives them (on the bench instance, 353,000 pivots after this phase instead of
    /// 391,000 with the needs in id order).
    fn initial_pivots(&mut self) -> Result<(), AllocationError> {
        let mut cheapest = vec![NONE; self.root];
        for (e, a) in self.arcs[..self.first_root_arc].iter().enumerate() {
            let t = a.target as usize;
            if cheapest[t] == NONE || a.cost < self.arcs[cheapest[t]].cost {
                cheapest[t] = e;
            }
        }
        let unmet_first = self.first_root_arc + self.providers;
        let mut order: Vec<usize> = cheapest.into_iter().filter(|&e| e != NONE).collect();
        order.sort_by_key(|&e| {
            let a = self.arcs[e];
            (a.cost - self.arcs[unmet_first + a.target as usize - self.providers].cost, e)
        });
        for &e in &order {
            // A negative reduced cost: not in the tree (tree arcs have 0).
            if self.reduced_cost(e) < 0 {
                self.pivot(e, self.arcs[e])?;
            }
        }
        Ok(())
    }

    /// Pivots until no arc has a negative reduced cost, in rounds: a full pass over every arc
    /// counts those with a negative reduced cost (none: optimal, stop) and takes each need's
    /// `per_need` best offers at the current prices as its candidates; then arcs enter from the
    /// candidates only (block search, blocks of about `block` reduced costs) until none of
    /// them has a negative reduced cost or `round_pivots` have entered. A need's most negative
    /// arc is always among its candidates, so every round but the last pivots at least once.
    /// `after_pivot` sees the basis after each pivot (the tests check it).
    fn run(&mut self, per_need: usize, block: usize, round_pivots: usize, after_pivot: &mut dyn FnMut(&Simplex)) -> Result<(), AllocationError> {
        let needs = self.root - self.providers;
        let mut total = 0;
        self.first_candidate = vec![0];
        for n in 0..needs {
            total += (self.first_arc[n + 1] - self.first_arc[n]).min(per_need);
            self.first_candidate.push(total);
        }
        self.candidates = vec![Candidate { arc: 0, provider: 0, cost: 0 }; total];
        while self.choose_candidates() > 0 {
            for _ in 0..round_pivots {
                let Some((e, arc)) = self.entering_candidate(block) else { break };
                self.pivot(e, arc)?;
                after_pivot(self);
            }
        }
        Ok(())
    }

    /// The full pass: how many arcs have a negative reduced cost, and each need's candidates
    /// (its arcs of least cost + provider potential, ties by provider id). The needs are
    /// independent, so on a large instance they are shared out in contiguous parts, one per
    /// thread ([`full_pass_threads`]); the answer is the same however they are shared.
    fn choose_candidates(&mut self) -> usize {
        let needs = self.root - self.providers;
        let mut candidates = std::mem::take(&mut self.candidates);
        let parts = self.threads;
        let mut violating = if parts <= 1 {
            self.choose_for(0..needs, &mut candidates)
        } else {
            // Parts of about equal numbers of arcs, cut between needs.
            let mut cuts = vec![0];
            for k in 1..parts {
                let goal = self.first_root_arc * k / parts;
                cuts.push(self.first_arc.partition_point(|&f| f < goal).min(needs).max(cuts[k - 1]));
            }
            cuts.push(needs);
            let this = &*self;
            std::thread::scope(|scope| {
                let mut rest: &mut [Candidate] = &mut candidates;
                let mut handles = Vec::new();
                let mut first = 0;
                for k in 0..parts {
                    let (lo, hi) = (cuts[k], cuts[k + 1]);
                    let (part, tail) = rest.split_at_mut(this.first_candidate[hi] - first);
                    rest = tail;
                    first = this.first_candidate[hi];
                    if k + 1 < parts {
                        handles.push(scope.spawn(move || this.choose_for(lo..hi, part)));
                    } else {
                        let mine = this.choose_for(lo..hi, part);
                        return handles.into_iter().map(|h| h.join().expect("a full-pass thread panicked")).sum::<usize>() + mine;
                    }
                }
                0
            })
        };
        self.candidates = candidates;
        for e in self.first_root_arc..self.arcs.len() {
            if self.reduced_cost(e) < 0 {
                violating += 1;
            }
        }
        violating
    }

    /// The full pass over the arcs of `needs`, writing their candidates to `out` (which starts
    /// at the first candidate of the first of them): how many of the arcs have a negative
    /// reduced cost.
    fn choose_for(&self, needs: std::ops::Range<usize>, out: &mut [Candidate]) -> usize {
        let base = self.first_candidate[needs.start];
        let mut violating = 0;
        for n in needs {
            let need_potential = self.potential(self.providers + n);
            let (first, last) = (self.first_candidate[n] - base, self.first_candidate[n + 1] - base);
            let arcs = &self.arcs[self.first_arc[n]..self.first_arc[n + 1]];
            let candidate = |i: usize| {
                let a = arcs[i];
                Candidate { arc: (self.first_arc[n] + i) as u32, provider: a.source, cost: a.cost }
            };
            if last - first == 2 {
                // The usual case, two candidates, kept in two pairs of locals: the same choice as
                // the insertion below.
                let (mut best, mut second) = ((i64::MAX, 0), (i64::MAX, 0));
                for (i, a) in arcs.iter().enumerate() {
                    let offer = a.cost + self.pi[a.source as usize];
                    violating += usize::from(offer < need_potential);
                    if offer < best.0 {
                        second = best;
                        best = (offer, i);
                    } else if offer < second.0 {
                        second = (offer, i);
                    }
                }
                out[first] = candidate(best.1);
                out[first + 1] = candidate(second.1);
                continue;
            }
            let mut chosen = 0;
            for (i, a) in arcs.iter().enumerate() {
                let offer = a.cost + self.pi[a.source as usize];
                if offer < need_potential {
                    violating += 1;
                }
                // Insertion into the need's few candidates, kept by offer; an equal offer
                // stays behind the earlier arc (the smaller provider id).
                let mut j = chosen;
                if j < last - first {
                    chosen += 1;
                } else if offer < self.offer(out[last - 1]) {
                    j -= 1;
                } else {
                    continue;
                }
                while j > 0 && offer < self.offer(out[first + j - 1]) {
                    out[first + j] = out[first + j - 1];
                    j -= 1;
                }
                out[first + j] = candidate(i);
            }
        }
        violating
    }

    fn offer(&self, c: Candidate) -> i64 {
        c.cost + self.pi[c.provider as usize]
    }

    /// Block search over the candidates: needs in turn (their candidates and unmet arc), then
    /// the providers' leftover arcs, from where the last search stopped; the most negative
    /// reduced cost of the first block that has one gives the entering arc (its index and data).
    fn entering_candidate(&mut self, block: usize) -> Option<(usize, ArcData)> {
        let needs = self.root - self.providers;
        let items = needs + self.providers;
        let unmet_first = self.first_root_arc + self.providers;
        let mut best = 0i64;
        let mut chosen = NONE;
        let mut chosen_arc = ArcData { source: NIL, target: NIL, cost: 0 };
        let mut count = 0;
        let mut item = self.next_item;
        for _ in 0..items {
            if item < needs {
                let t = self.providers + item;
                let need_potential = self.pi[self.anchor[t] as usize] + self.offset[t];
                for c in &self.candidates[self.first_candidate[item]..self.first_candidate[item + 1]] {
                    // Tree arcs have reduced cost 0: a negative one is outside the tree.
                    let reduced = c.cost + self.pi[c.provider as usize] - need_potential;
                    if reduced < best {
                        best = reduced;
                        chosen = c.arc as usize;
                        chosen_arc = ArcData { source: c.provider, target: t as u32, cost: c.cost };
                    }
                }
                let unmet_arc = self.arcs[unmet_first + item];
                let unmet = unmet_arc.cost + self.pi[self.root] - need_potential;
                if unmet < best {
                    best = unmet;
                    chosen = unmet_first + item;
                    chosen_arc = unmet_arc;
                }
                count += self.first_candidate[item + 1] - self.first_candidate[item] + 1;
            } else {
                let p = item - needs;
                let leftover = self.pi[p] - self.pi[self.root];
                if leftover < best {
                    best = leftover;
                    chosen = self.first_root_arc + p;
                    chosen_arc = self.arcs[chosen];
                }
                count += 1;
            }
            item += 1;
            if item == items {
                item = 0;
            }
            if count >= block {
                if chosen != NONE {
                    self.next_item = item;
                    return Some((chosen, chosen_arc));
                }
                count = 0;
            }
        }
        if chosen != NONE {
            self.next_item = item;
            return Some((chosen, chosen_arc));
        }
        None
    }

    /// Brings arc `in_arc` (whose data is `arc`: the caller has it at hand, and the arc array
    /// is large) into the tree.
    fn pivot(&mut self, in_arc: usize, arc: ArcData) -> Result<(), AllocationError> {
        let (source, target) = (arc.source as usize, arc.target as usize);
        // The apex of the cycle (the nearest common ancestor of source and target: the walk
        // climbs from the node of smaller subtree) and, on the way, the leaving arc. The
        // entering arc pushes flow source → target, so round the cycle flow goes up from target
        // to the apex and down from the apex to source: the arcs that lose flow (and block) are
        // those pointing up on the source side and down on the target side. Ties go to the last
        // blocking arc met from the apex round the cycle's direction: on the source side the
        // first minimum met climbing (<), on the target side the last (≤), and the target side's
        // when the two sides tie.
        let (mut u, mut v) = (source, target);
        let (mut source_min, mut source_out) = (i64::MAX, NONE);
        let (mut target_min, mut target_out) = (i64::MAX, NONE);
        while u != v {
            let (nu, nv) = (self.tree[u], self.tree[v]);
            if nu.size < nv.size {
                if nu.pred_dir == UP && nu.flow < source_min {
                    (source_min, source_out) = (nu.flow, u);
                }
                u = nu.parent as usize;
            } else {
                if nv.pred_dir == DOWN && nv.flow <= target_min {
                    (target_min, target_out) = (nv.flow, v);
                }
                v = nv.parent as usize;
            }
        }
        let join = u;
        let (u_out, delta, on_source_side) = if target_out != NONE && target_min <= source_min {
            (target_out, target_min, false)
        } else {
            (source_out, source_min, true)
        };
        if u_out == NONE {
            return Err(AllocationError::Internal { message: format!("arc {in_arc} closes a cycle of negative cost without a bound") });
        }
        let (u_in, v_in) = if on_source_side { (source, target) } else { (target, source) };
        let pivot = Pivot { in_arc, arc, join, u_in, v_in, u_out, delta };
        self.change_flow(&pivot, source, target);
        self.update_tree(&pivot);
        Ok(())
    }

    fn change_flow(&mut self, p: &Pivot, source: usize, target: usize) {
        if p.delta > 0 {
            let mut u = source;
            while u != p.join {
                self.tree[u].flow -= i64::from(self.tree[u].pred_dir) * p.delta;
                u = self.tree[u].parent as usize;
            }
            let mut u = target;
            while u != p.join {
                self.tree[u].flow += i64::from(self.tree[u].pred_dir) * p.delta;
                u = self.tree[u].parent as usize;
            }
        }
    }

    /// Moves the subtree of `u_out` to hang from `v_in` by the entering arc, re-rooted at `u_in`,
    /// and shifts its potentials: the stem s₀ = u_in, s₁ = parent(s₀), …, s_k = u_out reverses.
    fn update_tree(&mut self, p: &Pivot) {
        let (u_in, v_in, u_out) = (p.u_in, p.v_in, p.u_out);
        let v_out = self.tree[u_out].parent as usize;
        let old_size = self.tree[u_out].size as usize;
        let in_dir = if p.arc.source as usize == u_in { UP } else { DOWN };
        // The shift that brings the entering arc's reduced cost to 0, from the old potentials.
        let sigma = self.potential(v_in) - self.potential(u_in) - i64::from(in_dir) * p.arc.cost;

        self.stem.clear();
        self.blocks.clear();
        let mut s = u_in;
        let mut below = 0;
        loop {
            self.stem.push(s);
            self.blocks.push(self.tree[s].size as usize - below);
            if s == u_out {
                break;
            }
            below = self.tree[s].size as usize;
            s = self.tree[s].parent as usize;
        }

        // Detach the stem from the tree and from itself, then hang it the other way round.
        self.unlink(u_out);
        for i in 1..self.stem.len() {
            let child = self.stem[i - 1];
            self.unlink(child);
        }
        for i in (1..self.stem.len()).rev() {
            let (child, above) = (self.stem[i], self.stem[i - 1]);
            self.tree[child].pred = self.tree[above].pred;
            self.tree[child].cost = self.tree[above].cost;
            self.tree[child].pred_dir = -self.tree[above].pred_dir;
            self.tree[child].flow = self.tree[above].flow;
        }
        self.tree[u_in].pred = p.in_arc as u32;
        self.tree[u_in].cost = p.arc.cost;
        self.tree[u_in].pred_dir = in_dir;
        // The entering arc carries what the pivot pushed round the cycle.
        self.tree[u_in].flow = p.delta;
        for i in 1..self.stem.len() {
            let (child, above) = (self.stem[i], self.stem[i - 1]);
            self.link(child, above);
        }
        self.link(u_in, v_in);
        let mut size = 0;
        for i in (0..self.stem.len()).rev() {
            let s = self.stem[i];
            size += self.blocks[i];
            self.tree[s].size = size as u32;
            if self.is_need(s) {
                self.anchor[s] = self.tree[s].parent;
                self.offset[s] = -i64::from(self.tree[s].pred_dir) * self.tree[s].cost;
            }
        }
        let mut a = v_out;
        while a != p.join {
            self.tree[a].size -= old_size as u32;
            a = self.tree[a].parent as usize;
        }
        let mut a = v_in;
        while a != p.join {
            self.tree[a].size += old_size as u32;
            a = self.tree[a].parent as usize;
        }

        // Shift the stored potentials of the moved subtree: its providers, two levels at a
        // time through the `below` lists (needs follow their anchors).
        if sigma != 0 {
            self.stack.clear();
            if self.is_need(u_in) {
                let mut c = self.hanging[u_in].first;
                while c != NIL {
                    self.stack.push(c as usize);
                    c = self.hanging[c as usize].next;
                }
            } else {
                self.stack.push(u_in);
            }
            while let Some(u) = self.stack.pop() {
                self.pi[u] += sigma;
                let mut c = self.below[u].first;
                while c != NIL {
                    self.stack.push(c as usize);
                    c = self.below[c as usize].next;
                }
            }
        }
    }

    /// Checks the basis against its definition (tests only): parents, child lists, sizes and
    /// anchors right, flows conserved, tree arcs at reduced cost 0.
    #[cfg(test)]
    fn check_consistent(&self, supply: &[i64]) {
        let root = self.root;
        let mut size = vec![1usize; root + 1];
        let mut in_tree = std::collections::HashSet::new();
        for u in 0..root {
            let p = self.tree[u].parent as usize;
            assert!(p != NONE, "{u} has no parent");
            // Sizes: add 1 to every ancestor.
            let mut a = p;
            let mut steps = 0;
            while a != NONE {
                size[a] += 1;
                a = self.tree[a].parent as usize;
                steps += 1;
                assert!(steps <= root + 1, "the parents of {u} go round");
            }
            let e = self.tree[u].pred as usize;
            assert!(in_tree.insert(e), "arc {e} is the tree arc of two nodes");
            let arc = self.arcs[e];
            let (s, t) = (arc.source as usize, arc.target as usize);
            assert!((s == u && t == p && self.tree[u].pred_dir == UP) || (t == u && s == p && self.tree[u].pred_dir == DOWN), "pred of {u}");
            assert_eq!(self.reduced_cost(e), 0, "tree arc {e}");
            assert_eq!(self.tree[u].cost, arc.cost, "cost kept with the tree arc of {u}");
            if self.is_need(u) {
                assert_eq!(self.anchor[u] as usize, p);
            } else {
                assert_eq!((self.anchor[u] as usize, self.offset[u]), (u, 0));
            }
        }
        assert_eq!(self.pi[root], 0);
        let listed = |lists: &[Links], owner: usize| {
            let mut listed = Vec::new();
            let mut c = lists[owner].first;
            while c != NIL {
                listed.push(c as usize);
                c = lists[c as usize].next;
            }
            listed.sort_unstable();
            listed
        };
        let parent = |u: usize| self.tree[u].parent as usize;
        for (u, &nodes_below) in size.iter().enumerate() {
            assert_eq!(self.tree[u].size as usize, nodes_below, "subtree size of {u}");
            if self.is_need(u) {
                let hanging: Vec<usize> = (0..self.providers).filter(|&c| parent(c) == u).collect();
                assert_eq!(listed(&self.hanging, u), hanging, "providers hanging from need {u}");
            } else {
                let below: Vec<usize> = (0..self.providers).filter(|&c| self.is_need(parent(c)) && parent(parent(c)) == u).collect();
                assert_eq!(listed(&self.below, u), below, "providers two levels below {u}");
            }
        }
        let mut balance = supply.to_vec();
        let flow = self.arc_flows();
        for (e, a) in self.arcs.iter().enumerate() {
            assert!(flow[e] >= 0);
            if !in_tree.contains(&e) {
                assert_eq!(flow[e], 0);
            }
            balance[a.source as usize] -= flow[e];
            balance[a.target as usize] += flow[e];
        }
        assert!(balance.iter().all(|&b| b == 0), "flow not conserved: {balance:?}");
    }
}

/// The method with other pricing (tests only): `per_need` candidates per need (every arc when it
/// is at least the need's number of arcs) and blocks of `block` reduced costs (`usize::MAX`: the
/// most negative of all candidates).
#[cfg(test)]
pub(crate) fn solve_pricing(checked: &Checked, per_need: usize, block: usize, round_pivots: usize, threads: usize) -> Result<Flows, AllocationError> {
    bounds(checked)?;
    let mut simplex = Simplex::star(checked);
    simplex.initial_pivots()?;
    simplex.threads = threads;
    simplex.run(per_need, block, round_pivots, &mut |_| {})?;
    Ok(simplex.flows(checked))
}

/// The same as [`solve`] with small blocks, checking the basis after every pivot and the
/// optimality conditions at the end (tests only).
#[cfg(test)]
pub(crate) fn solve_checking_every_pivot(checked: &Checked) -> Result<Flows, AllocationError> {
    bounds(checked)?;
    let mut supply: Vec<i64> = checked.providers.iter().map(|p| p.capacity).chain(checked.needs.iter().map(|n| -n.quantity)).collect();
    supply.push(supply.iter().map(|s| -s).sum());
    let mut simplex = Simplex::star(checked);
    simplex.check_consistent(&supply);
    simplex.initial_pivots()?;
    simplex.check_consistent(&supply);
    simplex.threads = 2;
    simplex.run(1, 3, 5, &mut |basis| basis.check_consistent(&supply))?;
    for e in 0..simplex.arcs.len() {
        assert!(simplex.reduced_cost(e) >= 0, "not optimal at arc {e}");
    }
    Ok(simplex.flows(checked))
}

//! The default governor against the oracle and the step rule, on every
//! standard scenario, in the simulator.

use vivace_perf_adapt::sim::{Scenario, Scores, simulate};
use vivace_perf_adapt::{BudgetConfig, BudgetGovernor, QualityBounds, StepGovernor};

fn run(scenario: &Scenario) -> (Scores, Scores) {
    let config = BudgetConfig::new(scenario.target_fps);
    let bounds = QualityBounds::default();
    let mut default = BudgetGovernor::new(config).unwrap();
    let mut step = StepGovernor::new(scenario.target_fps).unwrap();
    let d = simulate(scenario, &mut default, config.headroom, bounds).scores;
    let s = simulate(scenario, &mut step, config.headroom, bounds).scores;
    println!("{:>10} default: {d}", scenario.name);
    println!("{:>10} step:    {s}", scenario.name);
    (d, s)
}

#[test]
fn default_governor_meets_its_targets_on_every_standard_scenario() {
    for scenario in Scenario::standard() {
        let (d, _) = run(&scenario);
        let name = &scenario.name;
        assert!(
            d.over_budget_pct <= d.oracle_over_budget_pct + 1.0,
            "{name}: over budget {} vs oracle {}",
            d.over_budget_pct,
            d.oracle_over_budget_pct
        );
        assert!(
            d.mean_quality >= 0.9 * d.oracle_mean_quality,
            "{name}: mean quality {} vs oracle {}",
            d.mean_quality,
            d.oracle_mean_quality
        );
        assert!(
            d.max_reversals_per_step <= 2,
            "{name}: {} reversals in one step",
            d.max_reversals_per_step
        );
        assert!(
            d.worst_settle() <= 30,
            "{name}: settled in {:?} frames",
            d.settle_frames
        );
    }
}

/// The default governor beats (or ties) the step rule on the scores that
/// reward staying in budget: frames over budget and p99. The other scores
/// are printed but not compared: the step rule holds quality as long as the
/// average rate stays above 0.8 × target, i.e. it parks at a quality that
/// puts 30–100% of frames over budget (in `hitchy` and `noisy` it barely
/// moves, so it has few reversals and little to settle), and no governor
/// that keeps the budget can match quality bought that way. Where the step
/// rule does oscillate (steady, step, ramp) it also has more reversals.
#[test]
fn default_governor_beats_the_step_rule_on_every_budget_score() {
    for scenario in Scenario::standard() {
        let (d, s) = run(&scenario);
        let name = &scenario.name;
        assert!(
            d.over_budget_pct < s.over_budget_pct,
            "{name}: over budget {} vs {}",
            d.over_budget_pct,
            s.over_budget_pct
        );
        // Both start at quality 1.0, so where the rest of the run is fast
        // the first frames set both p99s (hitchy): a tie there.
        assert!(
            d.p99_ms <= s.p99_ms,
            "{name}: p99 {} vs {}",
            d.p99_ms,
            s.p99_ms
        );
        if s.reversals > 2 {
            assert!(
                d.reversals < s.reversals,
                "{name}: reversals {} vs {}",
                d.reversals,
                s.reversals
            );
        }
    }
}

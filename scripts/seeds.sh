#!/usr/bin/env bash
# Runs the statistical tests on other seeds (issue 19: no test may pass only
# because of the seed it was written with) and counts how often each passes.
# Every such test draws through `seed(base)` (tests/integration/main.rs) or
# `test_seed(base)` (src/lib.rs); DEMANDSIM_TEST_SEED=k moves its seeds by
# k·1,000,000, k = 1..N here (k = 0 is what CI runs).
#   scripts/seeds.sh                  all of them, 20 seed sets
#   scripts/seeds.sh 5 '^qpn::'       5 seed sets, the tests matching a regex
#   scripts/seeds.sh 20 '' 'qpme|one_class'   all but those matching the second
# Part of the slow tier (scripts/slow-tests.sh); the ignored tests in the
# list run too.
# Logs: seeds.out/<k>.log; the tally on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20}
include=${2:-}
exclude=${3:-^$}

integration=(
  qpn::mm1_mean_response_time_is_s_over_one_minus_rho
  qpn::mmc_matches_erlang_c
  qpn::infinite_server_response_is_the_service_time
  qpn::md1_and_mh2_1_match_pollaczek_khinchine
  qpn::ps_and_lcfs_pr_are_insensitive_to_the_service_distribution
  qpn::nonpreemptive_priorities_match_cobham
  qpn::closed_single_queue_matches_exact_mva_and_conserves_tokens
  qpn::routing_follows_normalised_weights
  qpn::about_95_percent_of_batch_means_intervals_cover_the_true_mean
  qpn::precision_stops_when_every_probe_is_that_precise
  qpn::round_robin_gives_each_container_erlang_2_arrivals_and_jsq_beats_it
  qpn::places_sharing_a_ps_queue_are_one_mmc_ps_station
  qpn::shipped_host_models_are_one_mmc_ps_station_of_the_hosts_cpus
  qpn::the_depository_residence_of_a_place_drained_by_a_timed_transition_is_md1
  load_dependence::the_simulator_agrees_with_the_open_and_closed_load_dependent_solutions
  simulate::generated_traces_carry_the_true_demand_and_exact_utilization
  capacity::a_simulated_search_lands_near_the_analytic_answer
  capacity::a_simulated_percentile_search_has_intervals_and_lands_near_the_closed_form
  sweep::elasticities_of_mm1_are_the_closed_forms
  sweep::out_writes_the_plot_and_the_page_with_the_measured_points
  classes::per_class_parameters_and_predictions_follow_the_ps_closed_form
  classes::interval_level_input_gives_the_per_request_estimates_and_no_percentiles
  classes::each_monitored_resource_gets_its_own_per_class_demands
  classes::compare_by_class_sets_each_class_against_its_colour
  estimate::one_class_one_server_within_its_bounds_on_every_seed
  estimate::one_class_four_servers_within_its_bounds_on_every_seed
  estimate::noisy_utilization_within_5_and_6_percent
  estimate::rta_is_biased_by_the_waiting_time_as_documented
  estimate::two_classes_with_a_varying_mix_within_10_percent
  estimate::the_discipline_flag_decides_the_per_class_split
  estimate::librede_noise_free_cases_are_recovered
  estimate::three_runs_with_different_mixes_separate_the_classes_within_5_percent
  estimate::several_runs_on_the_command_line_and_draws_that_are_the_bootstrap
  estimate::a_constant_mix_flags_the_classes_and_reports_the_mix_weighted_mean
  estimate::intervals_cover_the_truth_in_at_least_three_quarters_of_50_seeds
  estimate::ninety_five_percent_intervals_cover_the_truth_in_at_least_90_percent_of_seeds
  estimate::two_class_intervals_cover_the_truth_in_at_least_90_percent_of_seeds
  estimate::background_load_is_detected_and_the_methods_it_fools_are_not_recommended
  estimate::no_background_is_reported_where_there_is_none
  estimate::a_demand_that_falls_with_load_is_recovered_from_six_runs
  estimate::runs_with_one_demand_are_not_said_to_drift
  estimate::a_response_time_equation_that_misses_across_load_is_distrusted
  estimate::a_response_time_equation_that_holds_across_load_is_not_distrusted
  behavior::the_behaviour_model_is_solved_exactly_and_the_simulator_agrees
  behavior::a_study_predicts_per_request_and_user_class_from_a_behaviour_workload
  study::a_tiny_study_gives_the_closed_form_numbers_and_survives_a_broken_experiment
  study::an_experiment_estimates_from_its_low_load_runs_and_predicts_another_load
  study::a_load_dependent_demand_is_passed_at_the_predicted_load
  solve::every_shipped_model_is_solved_and_the_simulator_agrees
  solve::the_simulator_agrees_with_the_class_switching_solution
  qpme::regression_tests_rt1_to_rt4_agree_within_simqpns_spread
)
unit=(
  compare::tests::
  qpn::dist::tests::
  behavior::think::tests::
  behavior::tests::
  estimate::linearized::tests::one_gauss_newton_step_from_the_full_fit_matches_a_refit
)
pick() { for t in "$@"; do [[ $t =~ $include && ! $t =~ $exclude ]] && echo "$t"; done; true; }
mapfile -t its < <(pick "${integration[@]}")
mapfile -t units < <(pick "${unit[@]}")

mkdir -p seeds.out
cargo test --no-run --lib --test integration -q 2> /dev/null
for k in $(seq 1 "$n"); do
  {
    [ ${#its[@]} -eq 0 ] || DEMANDSIM_TEST_SEED=$k cargo test --test integration -- --include-ignored --exact "${its[@]}" 2>&1 || true
    [ ${#units[@]} -eq 0 ] || DEMANDSIM_TEST_SEED=$k cargo test --lib -- "${units[@]}" 2>&1 || true
  } > "seeds.out/$k.log"
  echo "seed set $k: $(grep -c '^test .* FAILED$' "seeds.out/$k.log" || true) failed" >&2
done
# Per test: the seed sets it passed on, of n.
for k in $(seq 1 "$n"); do grep -E '^test .* \.\.\. (ok|FAILED)$' "seeds.out/$k.log" || true; done |
  awk '{ name = $2; total[name]++; if ($NF == "ok") ok[name]++ }
       END { for (t in total) printf "%3d/%d %s\n", ok[t], total[t], t }' | sort -k2

use super::*;

type Row = (f64, f64, String, bool, String);

fn merged(files: &[&str], names: Option<&str>, skip_s: f64) -> Result<Vec<Row>, InFile> {
    let names = names.map(|n| script_names(n).unwrap());
    let mut inputs: Vec<&[u8]> = files.iter().map(|f| f.as_bytes()).collect();
    let mut sources: Vec<Source> = inputs
        .iter_mut()
        .map(|input| Source { input, name: "log" })
        .collect();
    let mut rows = Vec::new();
    merge(&mut sources, &mut Classes::new(names), skip_s, &mut |r| {
        let user = r.user.unwrap_or_default().to_string();
        rows.push((
            r.start,
            r.response_time,
            r.class.to_string(),
            r.success,
            user,
        ));
        Ok(())
    })?;
    Ok(rows)
}

#[test]
fn start_is_completion_minus_latency_and_threads_merge_in_completion_order() {
    // Thread 0 completes at .500000 and 2.000001, thread 1 at 1.25;
    // latencies 1500, 250000 and 2 us.
    let t0 = "0 1 1500 0 1700000000 500000 12\n2 1 250000 1 1700000002 1\n";
    let t1 = "1 1 2 0 1700000001 250000 0\n";
    let rows = merged(&[t0, t1], Some("light,heavy"), 0.0).unwrap();
    let want: [Row; 3] = [
        (
            1_700_000_000_498_500.0 / 1e6,
            0.0015,
            "light".into(),
            true,
            "0".into(),
        ),
        (
            1_700_000_001_249_998.0 / 1e6,
            2e-6,
            "light".into(),
            true,
            "1".into(),
        ),
        (
            1_700_000_001_750_001.0 / 1e6,
            0.25,
            "heavy".into(),
            true,
            "2".into(),
        ),
    ];
    assert_eq!(rows, want);
    // Script numbers name classes scriptN without names.
    let rows = merged(&[t0], None, 0.0).unwrap();
    assert_eq!(
        (rows[0].2.as_str(), rows[1].2.as_str()),
        ("script0", "script1")
    );
}

#[test]
fn failed_are_kept_without_a_duration_skipped_are_dropped_and_the_warm_up_left_out() {
    let log = "0 1 100 0 1700000000 0\n\
               0 2 failed 0 1700000003 0\n\
               1 1 skipped 0 1700000004 0 9000\n\
               1 2 serialization 0 1700000005 0 7 0\n\
               0 3 100 0 1700000010 0\n";
    let rows = merged(&[log], None, 0.0).unwrap();
    let outcome: Vec<(f64, bool)> = rows.iter().map(|r| (r.1, r.3)).collect();
    assert_eq!(
        outcome,
        [(1e-4, true), (0.0, false), (0.0, false), (1e-4, true)]
    );
    assert_eq!(
        rows[1].0, 1_700_000_003.0,
        "a failure is stamped at its completion"
    );
    // Started within 4 s of the first start (1699999999.9999): out.
    let rows = merged(&[log], None, 4.0).unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0].0, 1_700_000_005.0);
}

#[test]
fn bad_lines_name_the_file_line_and_field() {
    let good = "0 1 100 0 1700000000 0\n";
    let e = merged(
        &[good, "0 1 100 0 1700000000 0\n0 2 1x 0 1700000001 0\n"],
        None,
        0.0,
    )
    .unwrap_err();
    assert_eq!(e.file, 1);
    assert_eq!(
        e.to_string(),
        "line 2, field `time`: found \"1x\", expected a whole number >= 0"
    );
    let e = merged(&["0 1 100 0 1700000000\n"], None, 0.0).unwrap_err();
    assert!(
        e.to_string().starts_with("line 1: expected 6 to 8 fields"),
        "{e}"
    );
    let agg = "1796677458 41 326772 6680853232 246 31396 30103 129972867 67 7719 0 0 0 1 0\n";
    let e = merged(&[agg], None, 0.0).unwrap_err().to_string();
    assert!(
        e.ends_with("found more; an aggregated log needs --aggregate-interval"),
        "{e}"
    );
    let e = merged(&["0 1 100 0 1700000000 1000000\n"], None, 0.0).unwrap_err();
    assert!(e.to_string().contains("field `time_us`"), "{e}");
    let e = merged(&["0 1 100 2 1700000000 0\n"], Some("a,b"), 0.0).unwrap_err();
    assert!(e.to_string().contains("a script number below 2"), "{e}");
    let e = merged(&["0 1 100 0 0 50\n"], None, 0.0).unwrap_err();
    assert!(e.to_string().contains("field `time_epoch`"), "{e}");
}

fn intervals(text: &str, width: f64, skip_s: f64) -> Result<Vec<IntervalRecord>, TraceError> {
    let mut out = Vec::new();
    let mut input = text.as_bytes();
    read_aggregated(&mut input, width, skip_s, "all", &mut |r, c| {
        assert_eq!(c, "all");
        out.push(*r);
        Ok(())
    })?;
    Ok(out)
}

#[test]
fn aggregated_lines_give_exact_means_and_the_failures_of_every_version() {
    let v15 = "1796677458 41 326772 6680853232 246 31396 30103 129972867 67 7719 0 0 0 1 2\n\
               1796677459 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
    let rows = intervals(v15, 1.0, 0.0).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (
            rows[0].end,
            rows[0].width,
            rows[0].completions,
            rows[0].failures
        ),
        (1_796_677_459.0, 1.0, 41, 3)
    );
    assert_eq!(rows[0].mean_response_s, Some(326_772.0 / 41.0 / 1e6));
    assert_eq!(rows[1].mean_response_s, None, "nothing completed");
    // PostgreSQL 14 without and with --rate: no failures counted.
    let v14 = "100 4 2000 1000000 400 600\n110 2 800 320000 400 400 10 50 2 8\n";
    let rows = intervals(v14, 10.0, 0.0).unwrap();
    assert_eq!(
        rows.iter().map(|r| (r.end, r.failures)).collect::<Vec<_>>(),
        [(110.0, 0), (120.0, 0)]
    );
    assert_eq!(
        intervals(v14, 10.0, 10.0).unwrap().len(),
        1,
        "the first 10 s left out"
    );
}

#[test]
fn aggregated_lines_closer_than_the_interval_or_of_another_shape_are_refused() {
    let e = intervals(
        "100 4 2000 1000000 400 600\n101 4 2000 1000000 400 600\n",
        5.0,
        0.0,
    );
    let e = e.unwrap_err().to_string();
    assert!(
        e.starts_with("line 2: interval_start 101 comes 1 s after"),
        "{e}"
    );
    let e = intervals("100 4 2000 1000000 400\n", 5.0, 0.0)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("line 1: expected 6 fields"), "{e}");
    let e = intervals("100 4 2000 1000000 400 -1\n", 5.0, 0.0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("field `max_latency`"), "{e}");
}

#[test]
fn options_are_checked_once() {
    let p = Pgbench;
    let bad = Values::new().with("script-names", super::super::Value::Text("a,,b".into()));
    assert_eq!(p.configure(&bad).unwrap_err().option, "script-names");
    let bad = Values::new().with("aggregate-interval", super::super::Value::Number(0.0));
    assert_eq!(p.configure(&bad).unwrap_err().option, "aggregate-interval");
    let agg = Values::new().with("aggregate-interval", super::super::Value::Number(5.0));
    assert!(matches!(p.configure(&agg).unwrap(), Reader::Intervals(_)));
    assert!(matches!(
        p.configure(&Values::new()).unwrap(),
        Reader::MergedRequests { origin: true, .. }
    ));
}

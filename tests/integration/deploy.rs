//! The job files in `deploy/`: the Kubernetes manifests against the fields
//! the batch/v1 Job schema requires and the values a sharded sweep needs;
//! the Slurm array script run as each array task would run it.

use serde_json::Value;

use super::demandsim;

fn file(path: &str) -> String {
    std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// A DNS-1123 label, as Kubernetes requires of names.
fn dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// The batch/v1 Job fields every Job must have right.
fn check_job(job: &Value) {
    assert_eq!(job["apiVersion"], "batch/v1", "{job}");
    assert_eq!(job["kind"], "Job");
    assert!(
        dns_label(job["metadata"]["name"].as_str().unwrap()),
        "{job}"
    );
    let spec = &job["spec"];
    let pod = &spec["template"]["spec"];
    // A Job's pods must not restart Always.
    assert!(
        matches!(pod["restartPolicy"].as_str(), Some("Never" | "OnFailure")),
        "{pod}"
    );
    let containers = pod["containers"].as_array().unwrap();
    assert!(!containers.is_empty());
    let volumes: Vec<&str> = pod["volumes"]
        .as_array()
        .map(|v| v.iter().map(|x| x["name"].as_str().unwrap()).collect())
        .unwrap_or_default();
    for c in containers {
        assert!(
            dns_label(c["name"].as_str().unwrap()) && c["image"].is_string(),
            "{c}"
        );
        for m in c["volumeMounts"].as_array().into_iter().flatten() {
            assert!(volumes.contains(&m["name"].as_str().unwrap()), "{m}");
            assert!(m["mountPath"].as_str().unwrap().starts_with('/'));
        }
    }
    for k in ["completions", "parallelism", "backoffLimit"] {
        if !spec[k].is_null() {
            assert!(spec[k].as_u64().is_some(), "{k}: {}", spec[k]);
        }
    }
}

#[test]
fn the_kubernetes_jobs_are_valid_and_shard_the_sweep_completely() {
    let docs: Vec<Value> = serde_saphyr::from_multiple(&file("deploy/k8s/sweep-job.yaml")).unwrap();
    assert_eq!(docs.len(), 2);
    docs.iter().for_each(check_job);
    let (sweep, merge) = (&docs[0], &docs[1]);
    let n = sweep["spec"]["completions"].as_u64().unwrap();
    assert_eq!(sweep["spec"]["completionMode"], "Indexed");
    assert_eq!(sweep["spec"]["parallelism"].as_u64(), Some(n));
    let args = sweep["spec"]["template"]["spec"]["containers"][0]["args"][0]
        .as_str()
        .unwrap();
    // Indices are 0..N-1; shards 1..N of N.
    assert!(
        args.contains(&format!("--shard $((JOB_COMPLETION_INDEX + 1))/{n}")),
        "{args}"
    );
    assert!(
        args.contains("--seed "),
        "every shard needs the same seed: {args}"
    );
    let merge_args = merge["spec"]["template"]["spec"]["containers"][0]["args"][0]
        .as_str()
        .unwrap();
    for i in 1..=n {
        assert!(
            merge_args.contains(&format!("/results/part-{i}.json")),
            "{merge_args}"
        );
    }
    assert!(!merge_args.contains(&format!("part-{}.json", n + 1)));
}

#[test]
fn the_slurm_array_task_writes_its_shard_and_the_parts_merge_into_the_whole() {
    for script in ["deploy/slurm/sweep.sbatch", "deploy/slurm/submit.sh"] {
        let path = format!("{}/{script}", env!("CARGO_MANIFEST_DIR"));
        let ok = std::process::Command::new("bash")
            .args(["-n", &path])
            .status()
            .unwrap();
        assert!(ok.success(), "{script} does not parse");
    }
    let dir = tempfile::tempdir().unwrap();
    let model = format!("{}/models/qpn1-open.yaml", env!("CARGO_MANIFEST_DIR"));
    let args = "--grid arrival_rate=2,4,6,8,10 --method simulate --requests 2000";
    let sbatch = format!("{}/deploy/slurm/sweep.sbatch", env!("CARGO_MANIFEST_DIR"));
    for task in 1..=2 {
        let out = std::process::Command::new("bash")
            .arg(&sbatch)
            .env("MODEL", &model)
            .env("SEED", "5")
            .env("OUT", dir.path())
            .env("SWEEP_ARGS", args)
            .env("DEMANDSIM", env!("CARGO_BIN_EXE_demandsim"))
            .env("SLURM_ARRAY_TASK_COUNT", "2")
            .env("SLURM_ARRAY_TASK_ID", task.to_string())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let part = |i: u32| {
        dir.path()
            .join(format!("part-{i}.json"))
            .display()
            .to_string()
    };
    let merged = dir.path().join("sweep.json");
    let run = demandsim(
        &["merge", &part(1), &part(2), "-o", merged.to_str().unwrap()],
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut whole_args = vec!["sweep", model.as_str(), "--seed", "5", "--format", "json"];
    whole_args.extend(args.split(' '));
    let whole = demandsim(&whole_args, b"");
    assert_eq!(whole.code, 0, "{}", whole.stderr);
    assert!(
        std::fs::read_to_string(&merged).unwrap() == whole.stdout,
        "merged differs"
    );
}

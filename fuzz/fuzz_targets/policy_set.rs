//! Policy sets from the hub (YAML or JSON): any bytes load or fail cleanly, within the
//! loader's limits; a set that loads evaluates the example pod without panicking.
#![no_main]

use ironroot_policy::{example, Input, PolicySet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let now = 1_800_000_000;
    let (pod, facts) = (example::pod(), example::facts(now));
    for set in [PolicySet::from_yaml(data), PolicySet::from_json(data)]
        .into_iter()
        .flatten()
    {
        assert!(set.policies().len() <= ironroot_policy::MAX_POLICIES);
        let input = Input {
            pod: &pod,
            namespace: "apps",
            cluster: "c",
            facts: &facts,
        };
        let decision = set.evaluate(&input, now);
        assert_eq!(decision.verdicts.len(), set.policies().len());
    }
});

//! How the files of a scan are dealt to its output partitions, as Hive's input splits deal
//! them to tasks: whole files round-robin, or, for formats read line by line, byte ranges of
//! equal size, so that one large file keeps every core busy and many small files share a task.

use std::ops::Range;

use datafusion::common::ScalarValue;

use super::file_scan::ScanFile;
use super::files::DataFile;

/// When a scan's files are cut into byte ranges: DataFusion's own settings for its Parquet
/// scans (`datafusion.optimizer.repartition_file_scans` and `repartition_file_min_size`).
#[derive(Debug, Clone, Copy)]
pub struct SplitPolicy {
    pub enabled: bool,
    /// Scans of fewer bytes than this in all keep whole files.
    pub min_total_bytes: u64,
}

/// Whole files dealt round-robin into `group_count` groups, one per output partition.
pub fn whole_file_groups(
    files: Vec<(DataFile, Vec<ScalarValue>)>,
    group_count: usize,
) -> Vec<Vec<ScanFile>> {
    let group_count = group_count.max(1);
    let mut groups: Vec<Vec<ScanFile>> = vec![Vec::new(); group_count];
    for (i, (file, values)) in files.into_iter().enumerate() {
        groups[i % group_count].push(ScanFile {
            path: file.path,
            partition_values: values,
            range: None,
        });
    }
    groups
}

/// `group_count` groups of about equal bytes, files cut into ranges where a group fills up.
/// A range starts reading at the first line that begins inside it (see
/// [`ScanFile::range`]). Small scans, and scans with splitting turned off, keep whole files.
pub fn split_file_groups(
    files: Vec<(DataFile, Vec<ScalarValue>)>,
    group_count: usize,
    policy: SplitPolicy,
) -> Vec<Vec<ScanFile>> {
    let group_count = group_count.max(1);
    let total: u64 = files.iter().map(|(file, _)| file.size).sum();
    if !policy.enabled || group_count == 1 || total < policy.min_total_bytes {
        let group_count = group_count.min(files.len());
        return whole_file_groups(files, group_count);
    }
    let per_group = total.div_ceil(group_count as u64);
    let mut groups: Vec<Vec<ScanFile>> = vec![Vec::new()];
    let mut filled = 0u64;
    for (file, values) in files {
        let mut offset = 0u64;
        while offset < file.size {
            if filled >= per_group {
                groups.push(Vec::new());
                filled = 0;
            }
            let take = (file.size - offset).min(per_group - filled);
            let range = Range {
                start: offset,
                end: offset + take,
            };
            let whole = range.start == 0 && range.end == file.size;
            if let Some(group) = groups.last_mut() {
                group.push(ScanFile {
                    path: file.path.clone(),
                    partition_values: values.clone(),
                    range: (!whole).then_some(range),
                });
            }
            offset += take;
            filled += take;
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, size: u64) -> (DataFile, Vec<ScalarValue>) {
        let data = DataFile {
            path: name.into(),
            size,
            modified: std::time::SystemTime::UNIX_EPOCH,
        };
        (data, Vec::new())
    }

    fn ranges(groups: &[Vec<ScanFile>]) -> Vec<Vec<(String, Option<Range<u64>>)>> {
        groups
            .iter()
            .map(|group| {
                group
                    .iter()
                    .map(|f| (f.path.display().to_string(), f.range.clone()))
                    .collect()
            })
            .collect()
    }

    const ON: SplitPolicy = SplitPolicy {
        enabled: true,
        min_total_bytes: 100,
    };

    #[test]
    fn one_large_file_is_cut_into_equal_ranges() {
        let groups = split_file_groups(vec![file("a", 1000)], 3, ON);
        assert_eq!(
            ranges(&groups),
            vec![
                vec![("a".to_string(), Some(0..334))],
                vec![("a".to_string(), Some(334..668))],
                vec![("a".to_string(), Some(668..1000))],
            ]
        );
    }

    #[test]
    fn small_files_share_a_group_and_large_ones_are_cut() {
        let files = vec![file("a", 50), file("b", 50), file("c", 300)];
        let groups = split_file_groups(files, 2, ON);
        assert_eq!(
            ranges(&groups),
            vec![
                vec![
                    ("a".to_string(), None),
                    ("b".to_string(), None),
                    ("c".to_string(), Some(0..100)),
                ],
                vec![("c".to_string(), Some(100..300))],
            ]
        );
    }

    #[test]
    fn small_scans_and_disabled_splitting_keep_whole_files() {
        let small = split_file_groups(vec![file("a", 60), file("b", 30)], 4, ON);
        assert_eq!(
            ranges(&small),
            vec![vec![("a".to_string(), None)], vec![("b".to_string(), None)]]
        );
        let off = SplitPolicy {
            enabled: false,
            ..ON
        };
        let whole = split_file_groups(vec![file("a", 1000)], 4, off);
        assert_eq!(ranges(&whole), vec![vec![("a".to_string(), None)]]);
    }

    #[test]
    fn empty_files_are_left_out_of_split_scans() {
        let groups = split_file_groups(vec![file("a", 0), file("b", 200)], 2, ON);
        assert_eq!(
            ranges(&groups),
            vec![
                vec![("b".to_string(), Some(0..100))],
                vec![("b".to_string(), Some(100..200))],
            ]
        );
    }
}

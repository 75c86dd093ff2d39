mod common;
use common::Server;

#[test]
fn set_get_on_every_shard_count() {
    for shards in [1, 4] {
        let s = Server::start(shards, &[]);
        let mut c = s.conn();
        for i in 0..200 {
            let _: () = redis::cmd("SET")
                .arg(format!("k{i}"))
                .arg(i)
                .query(&mut c)
                .unwrap();
        }
        for i in 0..200 {
            let v: i64 = redis::cmd("GET")
                .arg(format!("k{i}"))
                .query(&mut c)
                .unwrap();
            assert_eq!(v, i);
        }
        let n: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
        assert_eq!(n, 200);
    }
}

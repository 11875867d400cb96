// Runs 49-coldroom-sensor.rules the way polkitd does (its addRule and
// addAdminRule functions called with an action and a subject) and checks
// the roles of SECURITY.md, "Roles", for every group and action. Used by
// check-service.sh: node check-polkit-rules.js RULES-FILE
'use strict';
const fs = require('fs');
const vm = require('vm');

const Result = {
    NO: 'no', YES: 'yes', AUTH_SELF: 'auth_self', AUTH_SELF_KEEP: 'auth_self_keep',
    AUTH_ADMIN: 'auth_admin', AUTH_ADMIN_KEEP: 'auth_admin_keep', NOT_HANDLED: null,
};
const rules = [], adminRules = [];
const polkit = {
    Result,
    addRule: (f) => rules.push(f),
    addAdminRule: (f) => adminRules.push(f),
    log: () => {},
    spawn: () => { throw new Error('the rules must not spawn programs'); },
};
vm.runInNewContext(fs.readFileSync(process.argv[2], 'utf8'), { polkit });

function subject(groups) {
    return { user: 'someone', groups, local: true, active: true,
             isInGroup: (g) => groups.includes(g), isInNetGroup: () => false };
}

function decide(id, groups) {
    for (const f of rules) {
        const r = f({ id, lookup: () => undefined }, subject(groups));
        if (r !== undefined && r !== null)
            return r;
    }
    return 'default';
}

const A = 'org.coldroom.sensors.';
const want = [
    // groups, acknowledge, configure, sign-report
    [[], 'no', 'no', 'no'],
    [['users'], 'no', 'no', 'no'],
    [['coldroom-viewer'], 'no', 'no', 'no'],
    [['coldroom-auditor'], 'no', 'no', 'no'],
    [['coldroom-operator'], 'auth_self', 'no', 'auth_self'],
    [['coldroom-admin'], 'auth_self', 'auth_admin_keep', 'auth_self'],
    [['coldroom-operator', 'coldroom-admin'], 'auth_self', 'auth_admin_keep', 'auth_self'],
    [['sudo', 'wheel'], 'no', 'no', 'no'],
];
let failures = 0;
for (const [groups, ack, conf, sign] of want) {
    for (const [action, expected] of [['acknowledge', ack], ['configure', conf],
                                      ['sign-report', sign]]) {
        const got = decide(A + action, groups);
        if (got !== expected) {
            console.error(`polkit rules: ${A + action} for [${groups}]: ${got}, expected ${expected}`);
            failures++;
        }
    }
}
// Other actions are left to their own rules.
if (decide('org.freedesktop.login1.reboot', ['coldroom-admin']) !== 'default') {
    console.error('polkit rules: they decide an action that is not coldroom-sensor\'s');
    failures++;
}
const admins = adminRules.map((f) => f({ id: A + 'configure' }, subject([]))).find((r) => r);
if (JSON.stringify(admins) !== JSON.stringify(['unix-group:coldroom-admin'])) {
    console.error(`polkit rules: the administrators of ${A}configure are ${admins}`);
    failures++;
}
if (adminRules.some((f) => f({ id: 'org.freedesktop.login1.reboot' }, subject([]))))
    failures++, console.error('polkit rules: they name administrators of other actions');
process.exit(failures ? 1 : 0);

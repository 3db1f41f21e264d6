import { createHash } from 'node:crypto';
import { fail, num, ok, str, type SimJson } from './simulator-state';
import type { SimUser } from './simulator-users';

/** A work notification the simulated DingTalk delivered. */
export interface InboxMessage {
  taskId: string;
  userid: string;
  msgtype: string;
  title: string;
  text: string;
  /** Delivery time on the simulator's clock (ms). */
  at: number;
  recalled: boolean;
}

interface Task {
  createdAt: number;
  result: {
    invalid_user_id_list: string[];
    forbidden_user_id_list: string[];
    failed_user_id_list: string[];
    read_user_id_list: string[];
    unread_user_id_list: string[];
    invalid_dept_id_list: string[];
    forbidden_list: { code: number; count: number; userid: string }[];
  };
}

const MAX_MSG_BYTES = 2048;
const INBOX_LIMIT = 1000;
const DAY_MS = 86_400_000;
/** DingTalk's day is China's day (UTC+8). */
const CHINA_OFFSET_MS = 8 * 3_600_000;

export interface MessagesOptions {
  agentId: number;
  dailyCapPerUser: number;
  now: () => number;
  directory: { get(userid: string): SimUser | undefined; all(): SimUser[] };
  onMessage?: (m: InboxMessage) => void;
}

/**
 * Work notifications with DingTalk's silent limits: a send is accepted (errcode 0) and
 * only the send result tells that a recipient got nothing — unknown userid (invalid),
 * outside the visible range (forbidden), daily cap (143105), same content today (143106).
 */
export function createMessages(o: MessagesOptions) {
  const inbox: InboxMessage[] = [];
  /** The msg_task_id of every recall request, refused ones included, in order (the latest 1000). */
  const recalls: string[] = [];
  const tasks = new Map<string, Task>();
  let nextTaskId = 256_271_667_526;
  let day = -1;
  const sentToday = new Map<string, number>();
  const contentToday = new Set<string>();

  const rollDay = (t: number) => {
    const d = Math.floor((t + CHINA_OFFSET_MS) / DAY_MS);
    if (d === day) return;
    day = d;
    sentToday.clear();
    contentToday.clear();
    for (const [id, task] of tasks) if (task.createdAt <= t - DAY_MS) tasks.delete(id);
  };

  const checkAgent = (body: SimJson): SimJson | undefined => {
    const agentId = num(body.agent_id);
    if (agentId === undefined) return fail(40035, '缺少参数 agent_id');
    if (agentId !== o.agentId) return fail(400002, '无效的 agent_id');
    return undefined;
  };

  const findTask = (taskId: unknown): Task | undefined => {
    const id = str(taskId);
    const task = id === undefined ? undefined : tasks.get(id);
    return task && task.createdAt > o.now() - DAY_MS ? task : undefined;
  };

  return {
    inbox,
    recalls,

    send(body: SimJson): SimJson {
      const bad = checkAgent(body);
      if (bad) return bad;
      const msg = readMsg(body.msg);
      if (typeof msg === 'string') return fail(40035, msg);
      if (Buffer.byteLength(JSON.stringify(msg.raw)) > MAX_MSG_BYTES)
        return fail(400002, 'msg 超过 2048 字节');
      const toAll = body.to_all_user === true || body.to_all_user === 'true';
      const listed = (str(body.userid_list) ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      const depts = (str(body.dept_id_list) ?? '').split(',').filter((s) => s !== '');
      if (!toAll && listed.length === 0 && depts.length === 0) return fail(40035, '缺少参数 userid_list');
      if (listed.length > 5000) return fail(400002, 'userid_list 超过 5000');

      const t = o.now();
      rollDay(t);
      const taskId = String(nextTaskId++);
      const result: Task['result'] = {
        invalid_user_id_list: [],
        forbidden_user_id_list: [],
        failed_user_id_list: [],
        read_user_id_list: [],
        unread_user_id_list: [],
        invalid_dept_id_list: depts,
        forbidden_list: [],
      };
      const digest = createHash('sha256').update(JSON.stringify(msg.raw)).digest('hex');
      const recipients = toAll ? o.directory.all().map((u) => u.userid) : [...new Set(listed)];
      for (const userid of recipients) {
        const user = o.directory.get(userid);
        if (!user || !user.active) {
          result.invalid_user_id_list.push(userid);
          continue;
        }
        if (!user.visible) {
          result.forbidden_user_id_list.push(userid);
          continue;
        }
        const count = sentToday.get(userid) ?? 0;
        const contentKey = `${userid}\n${digest}`;
        const limit = count >= o.dailyCapPerUser ? 143105 : contentToday.has(contentKey) ? 143106 : 0;
        if (limit !== 0) {
          result.forbidden_user_id_list.push(userid);
          result.forbidden_list.push({ code: limit, count: 1, userid });
          continue;
        }
        sentToday.set(userid, count + 1);
        contentToday.add(contentKey);
        result.unread_user_id_list.push(userid);
        const message: InboxMessage = { taskId, userid, ...msg.shown, at: t, recalled: false };
        inbox.push(message);
        if (inbox.length > INBOX_LIMIT) inbox.splice(0, inbox.length - INBOX_LIMIT);
        o.onMessage?.(message);
      }
      tasks.set(taskId, { createdAt: t, result });
      return ok({ task_id: Number(taskId) });
    },

    sendResult(body: SimJson): SimJson {
      const bad = checkAgent(body);
      if (bad) return bad;
      if (body.task_id === undefined) return fail(40035, '缺少参数 task_id');
      const task = findTask(body.task_id);
      return task ? ok({ send_result: task.result }) : fail(400002, '无效的 task_id');
    },

    sendProgress(body: SimJson): SimJson {
      const bad = checkAgent(body);
      if (bad) return bad;
      if (body.task_id === undefined) return fail(40035, '缺少参数 task_id');
      return findTask(body.task_id)
        ? ok({ progress: { progress_in_percent: 100, status: 2 } })
        : fail(400002, '无效的 task_id');
    },

    recall(body: SimJson): SimJson {
      const bad = checkAgent(body);
      if (bad) return bad;
      if (body.msg_task_id === undefined) return fail(40035, '缺少参数 msg_task_id');
      const id = str(body.msg_task_id);
      if (id !== undefined) recalls.push(id);
      if (recalls.length > INBOX_LIMIT) recalls.splice(0, recalls.length - INBOX_LIMIT);
      if (!findTask(id)) return fail(400002, '无效的 msg_task_id');
      for (const m of inbox) if (m.taskId === id) m.recalled = true;
      return ok();
    },

    reset(): void {
      inbox.length = 0;
      recalls.length = 0;
      tasks.clear();
      sentToday.clear();
      contentToday.clear();
    },
  };
}

interface ReadMsg {
  raw: SimJson;
  shown: { msgtype: string; title: string; text: string };
}

/** `msg` as an object or as a JSON string (both are accepted); a string result is the error. */
function readMsg(value: unknown): ReadMsg | string {
  let msg = value;
  if (typeof msg === 'string') {
    try {
      msg = JSON.parse(msg);
    } catch {
      return '不合法的 msg';
    }
  }
  if (!msg || typeof msg !== 'object' || Array.isArray(msg)) return '缺少参数 msg';
  const raw = msg as SimJson;
  const msgtype = str(raw.msgtype);
  const part = msgtype ? raw[msgtype] : undefined;
  if (!msgtype || !part || typeof part !== 'object') return '缺少参数 msg.msgtype';
  const p = part as SimJson;
  switch (msgtype) {
    case 'text':
      if (!str(p.content)) return '缺少参数 msg.text.content';
      return { raw, shown: { msgtype, title: '', text: str(p.content)! } };
    case 'markdown':
      if (!str(p.title) || !str(p.text)) return '缺少参数 msg.markdown.title/text';
      return { raw, shown: { msgtype, title: str(p.title)!, text: str(p.text)! } };
    case 'link':
    case 'action_card':
    case 'oa':
      return {
        raw,
        shown: {
          msgtype,
          title: str(p.title) ?? '',
          text: str(p.text) ?? str(p.markdown) ?? JSON.stringify(p),
        },
      };
    default:
      return '不合法的 msgtype';
  }
}

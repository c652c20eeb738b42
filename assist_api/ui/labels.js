/* Chinese names of the platform's labels, shared by the console and the editor. */
window.LABELS = {
  category: { billing: "话费账单", plan: "套餐业务", network: "手机网络", broadband: "家庭宽带", number: "号卡业务",
              device: "终端设备", roaming: "国际漫游", security: "安全防诈", service: "服务质量", other: "其他业务" },
  priority: { urgent: "紧急", high: "高", normal: "普通" },
  complexity: { simple: "简单", complex: "复杂", special: "特殊" },
  emotion: { neutral: "平静", anxious: "焦虑", angry: "愤怒", disappointed: "失望", positive: "满意" },
  reason: { user_request: "客户要求转人工", no_answer: "知识库无答案", unhelpful: "答案没帮助", emotion: "客户情绪激动",
            urgent: "紧急故障", complaint: "投诉" },
  status: { queued: "排队中", assigned: "已接单", in_progress: "处理中", resolved: "已解决待确认", closed: "已关闭" },
  route: { frontline: "一线客服", tech_support: "技术支持", billing_team: "账务组", complaints: "投诉处理", management: "管理层" },
  kbStatus: { draft: "草稿", review: "待审核", published: "已发布", archived: "已归档" },
  decision: { answer: "直接回答", clarify: "澄清（您是不是想问）", handoff: "转人工" },
  sender: { customer: "客户", bot: "机器人", agent: "客服", system: "系统" },
  field: { question: "标准问题", similar_questions: "相似问法", answer: "答案", category: "分类", tags: "标签",
           channels: "渠道答案", owner: "负责人", review_due: "复审日期", status: "状态" },
  name: function (kind, value) { return (this[kind] && this[kind][value]) || value || "—"; }
};
